/** The request classes live in lib/operations (below lib/profile and lib/bootstrap); re-exported here for the session. */
export * from '../operations/requests';

/** Promise helpers for the library's public async API. */

/**
 * Marks a promise as handled (a no-op catch) and returns it: callers who await it still get the
 * rejection, but a fire-and-forget call (`void session.send(...)`) can never become an unhandled
 * rejection that takes the whole Node-RED process down.
 */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(ignore);
  return p;
}

/** One function for every `handled` promise (a closure per call is heap per pending session). */
function ignore(): undefined {
  return undefined;
}

/** A rejected promise that is already marked as handled (see `handled`). */
export function rejected<T = never>(err: unknown): Promise<T> {
  return handled(Promise.reject(err));
}

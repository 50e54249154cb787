/** Audit sinks: where ended sessions are kept (the AuditSink seam and its JSON Lines default). */
export * from './sink';
export * from './jsonl';
export * from './jsonl-reader';
export * from './postgres';
export * from './queued-sink';

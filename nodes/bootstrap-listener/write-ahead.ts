/**
 * The listener's half of the Bootstrap-Finish write-ahead (lib/bootstrap/write-ahead.ts): with an audit sink
 * that can make a record durable (the lwm2m-postgres config node), every session's "Finish about to be sent"
 * row is committed before Finish leaves, at most DEFAULT_BEFORE_FINISH_MS later; the final record replaces it.
 */
import { DEFAULT_BEFORE_FINISH_MS, type AuditSink, type BootstrapServer } from '../shared/lib';

export function attachWriteAhead(servers: BootstrapServer[], sink: AuditSink | undefined, listenerId: string): void {
  const ahead = sink?.writeAhead?.bind(sink);
  if (!ahead) return;
  for (const s of servers) {
    s.setBeforeFinish((record) => ahead({ ...record, listenerId }, DEFAULT_BEFORE_FINISH_MS), DEFAULT_BEFORE_FINISH_MS + 100);
  }
}

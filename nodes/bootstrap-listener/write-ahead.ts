/**
 * The listener's half of the Bootstrap-Finish write-ahead (lib/bootstrap/write-ahead.ts): with an audit sink
 * that can make a record durable (the lwm2m-postgres config node), every session's "Finish about to be sent"
 * row is committed before Finish leaves, at most the sink's writeAheadMs later (its "Write-ahead wait"); the
 * final record replaces it. 0: no write-ahead.
 */
import { DEFAULT_BEFORE_FINISH_MS, type AuditSink, type BootstrapServer } from '../shared/lib';

export function attachWriteAhead(servers: BootstrapServer[], sink: AuditSink | undefined, listenerId: string): void {
  const ahead = sink?.writeAhead?.bind(sink);
  const ms = sink?.writeAheadMs ?? DEFAULT_BEFORE_FINISH_MS;
  if (!ahead || !(ms > 0)) return;
  // The server's own bound a little above the sink's: the sink answers false at its bound itself.
  for (const s of servers) s.setBeforeFinish((record) => ahead({ ...record, listenerId }, ms), ms + 100);
}

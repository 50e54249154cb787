/**
 * The listener's second output, the log of record: one message per ended session and per answered (or
 * timed-out) Bootstrap-Pack-Request, from the library's 'audit' event. Plain data only (the record is a
 * detached copy; it never holds a key).
 *
 *   msg.topic          the endpoint name
 *   msg.payload        a short human summary: "meter-7: REQUEST_FAILED (write /0/1: 4.00 bad value)"
 *   msg.lwm2m.audit    the AuditRecord (kind, outcome, detail, steps with the device's code and diagnostic)
 *   msg.lwm2m.outcome  the outcome
 */
import type { AuditRecord } from '../shared/lib';
import type { Lwm2mMsgInfo } from '../shared/session-ref';

export type AuditMsgInfo = Pick<Lwm2mMsgInfo, 'sessionId' | 'listenerId' | 'endpoint' | 'kind'> & { audit: AuditRecord; outcome: string };

/** Longest detail shown in the summary (the record itself keeps it all). */
const DETAIL_MAX = 160;

export function auditMessage(
  record: AuditRecord,
  listenerId: string,
  t: (key: string, vars?: Record<string, unknown>) => string,
): { topic: string; payload: string; lwm2m: AuditMsgInfo } {
  const endpoint = record.endpoint;
  const outcome = record.outcome === undefined ? 'UNKNOWN' : String(record.outcome);
  const detail = record.detail ? record.detail : undefined;
  const shortDetail = detail && detail.length > DETAIL_MAX ? `${detail.slice(0, DETAIL_MAX)}…` : detail;
  const kind = record.kind === 'pack' ? 'pack' : 'bootstrap';
  const payload = shortDetail
    ? t('payload.auditDetail', { endpoint, outcome, detail: shortDetail })
    : t('payload.audit', { endpoint, outcome });
  return {
    topic: endpoint,
    payload,
    lwm2m: { sessionId: record.sessionId, listenerId, endpoint, kind, audit: record, outcome },
  };
}

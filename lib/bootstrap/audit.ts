/** What a bootstrap session leaves behind for the record: who, from where, every step, how it ended. No secrets. */
import type { StepOp } from '../operations/requests';
import type { SessionOutcome } from './outcome';

/** The operation a step performed, named after the specification ('pack': the answer to a Bootstrap-Pack-Request). */
export type { StepOp };

/**
 * What the record is about: a bootstrap session (POST /bs), a server-initiated bootstrap session (opened by
 * the server, no request from the device) or a Bootstrap-Pack-Request (GET /bspack).
 */
export type AuditKind = 'bootstrap' | 'server-initiated' | 'pack';

/** Longest diagnostic text kept from a device (characters, after escaping). */
export const MAX_DIAGNOSTIC_CHARS = 256;

export interface AuditStep {
  op: StepOp;
  method: string;
  path: string;
  contentFormat?: number;
  /** CoAP response code ("2.04"); '' when no response came (timeout, Reset, send failure). */
  code: string;
  success: boolean;
  /** Milliseconds from first transmission to response (or to the failure). */
  ms: number;
  error?: string;
  /** The device's diagnostic payload on an error response, escaped and cut to MAX_DIAGNOSTIC_CHARS. */
  diagnostic?: string;
  /** This Write repeats one the device refused, now without the empty NoSec key resources /0/x/3, 4, 5. */
  retriedWithoutKeys?: boolean;
  /** Formats tried for this Write before its own (refused 4.15, or unable to carry the tree). */
  retriedFormats?: number[];
  /** A later request repeated this one (another format, or without the NoSec keys) and stands for it. */
  superseded?: boolean;
}

export interface Peer {
  address: string;
  port: number;
  family: string;
}

/** The authenticated (D)TLS identity of the peer. Only its type and id: never key material. */
export interface PeerIdentity {
  type: string;
  id: string;
}

/**
 * The record of one bootstrap session or one Bootstrap-Pack-Request. The server emits it once, as
 * `'audit'`, when the session or pack request has ended; then `outcome` and `endedAt` are always set.
 */
export interface AuditRecord {
  kind: AuditKind;
  /** The session's id, or the pack request's id. */
  sessionId: string;
  endpoint: string;
  peer: Peer;
  identity?: PeerIdentity;
  query: Record<string, string>;
  preferredContentFormat?: number;
  lwm2mVersion?: string;
  /** ISO-8601 times. */
  startedAt: string;
  acceptedAt?: string;
  endedAt?: string;
  steps: AuditStep[];
  outcome?: SessionOutcome;
  /** Why it ended, when not plain success: e.g. the device's code and diagnostic ("4.00 bad key"). */
  detail?: string;
}

/**
 * Text a device (or any peer) sent, made safe for a record or a log line: valid UTF-8, control characters,
 * backslashes and non-printing characters escaped (\n, \xNN, \uNNNN), cut to `max` characters with "...".
 */
export function safeText(raw: Buffer | string, max = MAX_DIAGNOSTIC_CHARS): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    let piece: string;
    if (ch === '\\') piece = '\\\\';
    else if (ch === '\n') piece = '\\n';
    else if (ch === '\r') piece = '\\r';
    else if (ch === '\t') piece = '\\t';
    else if (c < 0x20 || c === 0x7f) piece = `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0x80 && c < 0xa0) || c === 0xfffd || (c >= 0x2028 && c <= 0x2029) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      piece = `\\u${c.toString(16).padStart(4, '0')}`;
    } else piece = ch;
    if (out.length + piece.length > max) return `${out}...`;
    out += piece;
  }
  return out;
}

/** Normalizes what a socket puts in `rinfo.identity` (a string is a PSK identity) to `{type, id}`, dropping anything else. */
export function toPeerIdentity(raw: unknown): PeerIdentity | undefined {
  if (typeof raw === 'string') return raw === '' ? undefined : { type: 'psk', id: raw };
  if (Buffer.isBuffer(raw)) return raw.length === 0 ? undefined : { type: 'psk', id: raw.toString('utf8') };
  if (raw !== null && typeof raw === 'object') {
    const o = raw as { type?: unknown; id?: unknown };
    const id = Buffer.isBuffer(o.id) ? o.id.toString('utf8') : o.id;
    if (typeof id === 'string' && id !== '') {
      return { type: typeof o.type === 'string' ? o.type : 'psk', id };
    }
  }
  return undefined;
}

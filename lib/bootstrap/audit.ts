/** What a bootstrap session leaves behind for the record: who, from where, every step, how it ended. No secrets. */
import type { SessionOutcome } from './outcome';

/** The operation a step performed, named after the specification. */
export type StepOp = 'write' | 'delete' | 'discover' | 'read' | 'finish';

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

export interface AuditRecord {
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
  detail?: string;
}

const OPS: Record<string, StepOp> = {
  BootstrapWriteRequest: 'write',
  BootstrapDeleteRequest: 'delete',
  BootstrapDiscoverRequest: 'discover',
  BootstrapReadRequest: 'read',
  BootstrapFinishRequest: 'finish',
};

export function stepOp(requestType: string): StepOp {
  return OPS[requestType] ?? 'write';
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

/**
 * Messages carry ids, never live objects (Node-RED clones messages). These helpers turn msg.lwm2m back
 * into the live session through the listener node that owns it, and fail with clear typed errors.
 */
import type { Node, NodeAPI } from 'node-red';
import { Lwm2mError, SessionNotFoundError, type AuditRecord, type AuditStep, type BootstrapPackRequest, type BootstrapSession } from './lib';
import type { ListenerSettings } from './listener-settings';

export interface Lwm2mStep {
  op: string;
  method: string;
  path: string;
  contentFormat?: number;
  code: string;
  success: boolean;
  ms: number;
  error?: string;
  /** Formats refused with 4.15 before this one (Bootstrap-Write only). */
  retriedFormats?: number[];
  /** The device's diagnostic text on an error response (escaped and cut short by the library). */
  diagnostic?: string;
  /** A NoSec Security Write repeated without its empty key resources after the device refused it. */
  retriedWithoutKeys?: boolean;
}

/** msg.lwm2m as ARCHITECTURE.md describes it. */
export interface Lwm2mMsgInfo {
  sessionId: string;
  listenerId: string;
  endpoint: string;
  kind: 'bootstrap' | 'server-initiated' | 'pack';
  preferredContentFormat?: number;
  lwm2mVersion?: string;
  peer: { address: string; port: number; family?: string };
  /** The listener's address and port the request was sent to (address unset when bound to a wildcard). */
  local?: { address?: string; port: number };
  identity?: { type: string; id: string };
  query: Record<string, string | undefined>;
  profileName?: string;
  steps: Lwm2mStep[];
  discovered?: unknown;
  credentials?: { pskIdentity: string; pskKey: string; secret: true };
  audit?: unknown;
  outcome?: string;
  /** The device refused Bootstrap-Discover; the bootstrap went on with the layout of a device not asked. */
  discoveryRefused?: { code: string; diagnostic?: string };
  /** A pack request that object-write answered already: bootstrap-finish passes the message on. */
  packAnswered?: boolean;
}

/** What the listener node offers to the other nodes. */
export interface ListenerNode extends Node {
  listenerSettings: ListenerSettings;
  getSession(id: string): BootstrapSession;
  getPackRequest(id: string): BootstrapPackRequest;
  releasePackRequest(id: string): void;
  /**
   * The audit record of an ended session, as a detached copy: the record the server emitted at its end
   * (copied, not built again), else session.audit(). Optional: a listener from elsewhere may not offer it.
   */
  auditOf?(session: BootstrapSession): AuditRecord;
}

/**
 * A detached copy of an audit record (plain data: its objects and arrays copied, its text as it is).
 * What session.audit() gives for an ended session, without formatting its times again.
 */
export function copyAudit(r: AuditRecord): AuditRecord {
  const c: AuditRecord = { ...r, peer: { ...r.peer }, query: { ...r.query }, steps: r.steps.map(copyStep) };
  if (r.identity) c.identity = { ...r.identity };
  return c;
}

function copyStep(s: AuditStep): AuditStep {
  return s.retriedFormats ? { ...s, retriedFormats: [...s.retriedFormats] } : { ...s };
}

/** The message is not one a listener sent (msg.lwm2m missing or incomplete). */
export class NotABootstrapMessageError extends Lwm2mError {
  constructor(reason: string) {
    super('NOT_A_BOOTSTRAP_MESSAGE', reason);
  }
}

/** A pack request that was answered already, or timed out. */
export class PackRequestNotFoundError extends Lwm2mError {
  constructor(readonly requestId: string) {
    super('SESSION_NOT_FOUND', `Bootstrap-Pack-Request ${requestId} was already answered or has timed out`);
  }
}

export function sessionNotFound(id: string): Error {
  return new SessionNotFoundError(id);
}

/** msg.lwm2m, checked. */
export function lwm2mInfo(msg: unknown, t: (k: string) => string): Lwm2mMsgInfo {
  const info = (msg as { lwm2m?: Partial<Lwm2mMsgInfo> }).lwm2m;
  if (!info || typeof info !== 'object' || typeof info.sessionId !== 'string' || typeof info.listenerId !== 'string') {
    throw new NotABootstrapMessageError(t('errors.noSession'));
  }
  if (!Array.isArray(info.steps)) info.steps = [];
  if (!info.query || typeof info.query !== 'object') info.query = {};
  return info as Lwm2mMsgInfo;
}

/** The listener node that owns the session, or a clear error when it is gone (redeployed, removed). */
export function listenerFor(RED: NodeAPI, info: Lwm2mMsgInfo): ListenerNode {
  const n = RED.nodes.getNode(info.listenerId) as ListenerNode | null;
  if (!n || typeof n.getSession !== 'function') throw new SessionNotFoundError(info.sessionId);
  return n;
}

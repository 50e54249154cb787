/**
 * "Single operation" mode: one Bootstrap operation described by msg.operation, for trainers stepping
 * through a bootstrap by hand:
 *   { op: 'write', path: '/0/1', value: { "0": "coap://…", … }, contentFormat?: 112 }
 *   { op: 'delete', path: '/1' }   { op: 'discover', path?: '/' }   { op: 'read', path: '/1', contentFormat? }
 */
import {
  BootstrapDeleteRequest,
  BootstrapDiscoverRequest,
  BootstrapReadRequest,
  BootstrapWriteRequest,
  WRITE_READ_FORMATS,
  defaultModel,
  Lwm2mError,
  nodeFromJson,
  type BootstrapDownlinkRequest,
} from '../shared/lib';

export class OperationError extends Lwm2mError {
  constructor(message: string) {
    super('BAD_OPERATION', message);
  }
}

export interface OperationSpec {
  op: 'write' | 'delete' | 'discover' | 'read';
  path?: string;
  value?: unknown;
  tree?: unknown;
  contentFormat?: number;
}


/** Builds the request; `defaultFormat` is the session's format (client's pct, else TLV). */
export function requestFromOperation(spec: unknown, defaultFormat: number): BootstrapDownlinkRequest {
  if (!spec || typeof spec !== 'object') throw new OperationError('msg.operation must be an object like {op: "write", path: "/1/0", value: {…}}');
  const s = spec as OperationSpec;
  const cf = s.contentFormat === undefined ? defaultFormat : Number(s.contentFormat);
  if (!WRITE_READ_FORMATS.includes(cf)) throw new OperationError(`msg.operation.contentFormat ${String(s.contentFormat)} is not a content format for writes/reads`);
  switch (s.op) {
    case 'delete':
      return new BootstrapDeleteRequest(s.path ?? '/');
    case 'discover':
      return new BootstrapDiscoverRequest(s.path ?? '/');
    case 'read':
      if (!s.path) throw new OperationError('msg.operation.path is required for read (/1, /1/I, /2 or /2/I)');
      return new BootstrapReadRequest(s.path, cf);
    case 'write': {
      if (!s.path) throw new OperationError('msg.operation.path is required for write (/O, /O/I or /O/I/R)');
      const json = s.value !== undefined ? s.value : s.tree;
      if (json === undefined) throw new OperationError('msg.operation.value is required for write');
      return new BootstrapWriteRequest(s.path, nodeFromJson(s.path, json, defaultModel), cf);
    }
    default:
      throw new OperationError(`msg.operation.op must be write, delete, discover or read (got ${JSON.stringify((s as { op?: unknown }).op)})`);
  }
}

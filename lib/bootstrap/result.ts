/**
 * The codec side of each operation: the payload a request carries, and the reading of the device's answer (the
 * success code it expects, the diagnostic, Discover and Read payloads). Both switch over every operation.
 */
import { Lwm2mError } from '../errors';
import { safeText } from './audit';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { decodePayload, encodePayload, readDiscover, type DiscoverInfo } from './codec-port';
import type { OutboundResult } from './coap/endpoint';
import { unhandledOperation, type BootstrapDownlinkRequest, type BootstrapResponse } from './requests';
import { isPlannedNode } from '../profile/plan';
import type { LwM2mPath } from '../model/path';

/** A device's answer, with what the session read from it. */
export interface SendResult extends BootstrapResponse {
  /** Bootstrap-Read 2.05: the decoded tree. */
  node?: LwM2mNode;
  /** Bootstrap-Discover 2.05: what the link-format says. */
  discover?: DiscoverInfo;
  /** The 2.05 payload could not be decoded (the device still answered; the session goes on). */
  decodeError?: Lwm2mError;
}

/** The payload a request carries: a Write's tree encoded in its Content-Format; the others carry none. Throws CodecError. */
export function requestPayload(req: BootstrapDownlinkRequest, model: ObjectModel | undefined): Buffer | undefined {
  switch (req.type) {
    case 'BootstrapWriteRequest':
      return writePayload(req.contentFormat, req.path, req.node, model);
    case 'BootstrapDeleteRequest':
    case 'BootstrapDiscoverRequest':
    case 'BootstrapReadRequest':
    case 'BootstrapFinishRequest':
      return undefined;
    default:
      return unhandledOperation(req);
  }
}

/** One encoding of a planned tree: the format, path (the object and its frozen ids) and model it was encoded for, and the bytes. */
interface Encoded {
  cf: number;
  path: LwM2mPath;
  ids: readonly number[];
  text: string;
  model: ObjectModel | undefined;
  bytes: Buffer;
}

/**
 * Payloads of planned trees (planBootstrap's remembered plans, which do not change), per format: every device
 * that gets the same write gets these bytes, encoded once. The device may be offered several formats (its
 * pct, then the 4.15 fallbacks), each kept apart. The bytes are only read (copied into the datagram, or
 * sliced into blocks), never written to.
 */
const encodedPayloads = new WeakMap<LwM2mNode, Encoded[]>();

function writePayload(cf: number, path: LwM2mPath, node: LwM2mNode, model: ObjectModel | undefined): Buffer {
  if (!isPlannedNode(node)) return encodePayload(cf, path, node, model);
  let list = encodedPayloads.get(node);
  if (list) {
    // The same path object (a remembered plan's) first, without its text; then an equal path.
    for (const e of list) if (e.path === path && e.ids === path.ids && e.cf === cf && e.model === model) return e.bytes;
    const at = path.toString();
    for (const e of list) if (e.text === at && e.cf === cf && e.model === model) return e.bytes;
  }
  const bytes = encodePayload(cf, path, node, model);
  if (!list) encodedPayloads.set(node, (list = []));
  list.push({ cf, path, ids: path.ids, text: path.toString(), model, bytes });
  return bytes;
}

export function readResponse(
  req: BootstrapDownlinkRequest,
  r: Extract<OutboundResult, { kind: 'response' }>,
  model: ObjectModel | undefined,
): SendResult {
  const res: SendResult = {
    code: r.code,
    success: r.code === req.expectedCode,
    payload: r.payload,
    rttMs: r.rttMs,
  };
  if (r.contentFormat !== undefined) res.contentFormat = r.contentFormat;
  // The device's text goes into records, messages and logs: escaped and cut short (safeText).
  if (!r.code.startsWith('2') && r.payload.length > 0) res.diagnostic = safeText(r.payload);
  if (res.success) readContent(req, r, model, res);
  return res;
}

/** A 2.05's content: Discover's link-format, Read's tree. A payload that does not decode is a decodeError. */
function readContent(
  req: BootstrapDownlinkRequest,
  r: Extract<OutboundResult, { kind: 'response' }>,
  model: ObjectModel | undefined,
  res: SendResult,
): void {
  try {
    switch (req.type) {
      case 'BootstrapDiscoverRequest':
        res.discover = readDiscover(r.payload);
        return;
      case 'BootstrapReadRequest':
        res.node = decodePayload(r.contentFormat ?? req.accept, req.path, r.payload, model);
        return;
      case 'BootstrapWriteRequest':
      case 'BootstrapDeleteRequest':
      case 'BootstrapFinishRequest':
        return;
      default:
        unhandledOperation(req);
    }
  } catch (err) {
    res.decodeError = asLwm2mError(err);
  }
}

function asLwm2mError(err: unknown): Lwm2mError {
  if (err instanceof Lwm2mError) return err;
  return new Lwm2mError('DECODE', err instanceof Error ? err.message : String(err));
}

/** Reading a device's answer: the success code each operation expects, the diagnostic, Discover and Read payloads. */
import { Lwm2mError } from '../errors';
import { safeText } from './audit';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { decodePayload, readDiscover, type DiscoverInfo } from './codec-port';
import type { OutboundResult } from './coap/endpoint';
import { expectedCode, type BootstrapDownlinkRequest, type BootstrapResponse } from './requests';

/** A device's answer, with what the session read from it. */
export interface SendResult extends BootstrapResponse {
  /** Bootstrap-Read 2.05: the decoded tree. */
  node?: LwM2mNode;
  /** Bootstrap-Discover 2.05: what the link-format says. */
  discover?: DiscoverInfo;
  /** The 2.05 payload could not be decoded (the device still answered; the session goes on). */
  decodeError?: Lwm2mError;
}

export function readResponse(
  req: BootstrapDownlinkRequest,
  r: Extract<OutboundResult, { kind: 'response' }>,
  model: ObjectModel | undefined,
): SendResult {
  const res: SendResult = {
    code: r.code,
    success: r.code === expectedCode(req),
    payload: r.payload,
    rttMs: r.rttMs,
  };
  if (r.contentFormat !== undefined) res.contentFormat = r.contentFormat;
  // The device's text goes into records, messages and logs: escaped and cut short (safeText).
  if (!r.code.startsWith('2') && r.payload.length > 0) res.diagnostic = safeText(r.payload);
  if (res.success && req.type === 'BootstrapDiscoverRequest') {
    try {
      res.discover = readDiscover(r.payload);
    } catch (err) {
      res.decodeError = asLwm2mError(err);
    }
  } else if (res.success && req.type === 'BootstrapReadRequest') {
    try {
      res.node = decodePayload(r.contentFormat ?? req.accept, req.path, r.payload, model);
    } catch (err) {
      res.decodeError = asLwm2mError(err);
    }
  }
  return res;
}

function asLwm2mError(err: unknown): Lwm2mError {
  if (err instanceof Lwm2mError) return err;
  return new Lwm2mError('DECODE', err instanceof Error ? err.message : String(err));
}

/**
 * Steps as they travel on msg.lwm2m.steps: { op, method, path, contentFormat?, code, success, ms, error? }.
 */
import type { BootstrapDownlinkRequest, BootstrapResponse } from './lib';
import type { Lwm2mStep } from './session-ref';

export function opName(req: BootstrapDownlinkRequest): string {
  return req.op;
}

export function requestPath(req: BootstrapDownlinkRequest): string {
  return req.target;
}

export function requestFormat(req: BootstrapDownlinkRequest): number | undefined {
  return req.formatOption?.format;
}

/**
 * A step from a request and its response. A response the library could not decode (a Read or Discover
 * payload in error) counts as a failed step, as it does for runBootstrap.
 */
export function stepOf(req: BootstrapDownlinkRequest, res: BootstrapResponse & { decodeError?: Error }): Lwm2mStep {
  const step: Lwm2mStep = {
    op: opName(req),
    method: req.method,
    path: requestPath(req),
    code: res.code,
    success: res.success && !res.decodeError,
    ms: Math.round(res.rttMs),
  };
  const cf = requestFormat(req);
  if (cf !== undefined) step.contentFormat = cf;
  if (!res.success && res.diagnostic) step.diagnostic = res.diagnostic;
  if (res.decodeError) step.error = res.decodeError.message;
  else if (!res.success && res.payload && res.payload.length > 0 && res.payload.length < 512) {
    step.error = res.payload.toString('utf8');
  }
  return step;
}

/** A step for a request that got no response (timeout, reset, encoding error). */
export function failedStep(req: BootstrapDownlinkRequest, err: Error, ms: number): Lwm2mStep {
  const step: Lwm2mStep = {
    op: opName(req),
    method: req.method,
    path: requestPath(req),
    code: '',
    success: false,
    ms: Math.round(ms),
    error: err.message,
  };
  const cf = requestFormat(req);
  if (cf !== undefined) step.contentFormat = cf;
  return step;
}

/** Normalises whatever step record the library returns into the message shape (copies plain data only). */
export function normaliseStep(s: Record<string, unknown>): Lwm2mStep {
  const step: Lwm2mStep = {
    op: String(s.op ?? ''),
    method: String(s.method ?? ''),
    path: String(s.path ?? ''),
    code: String(s.code ?? ''),
    success: s.success === true,
    ms: Math.round(Number(s.ms ?? s.rttMs ?? 0)),
  };
  if (typeof s.contentFormat === 'number') step.contentFormat = s.contentFormat;
  if (s.error !== undefined && s.error !== null) step.error = String(s.error instanceof Error ? s.error.message : s.error);
  return step;
}

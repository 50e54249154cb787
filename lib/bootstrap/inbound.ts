/**
 * Validation of what devices send us: the query of `POST /bs?ep=…&pct=…` and `GET /bspack?ep=…`.
 * Each check returns either the values or the CoAP error code and diagnostic to answer.
 */
import { toPeerIdentity } from './audit';

/** `pct` values a Bootstrap-Request may carry: SenML JSON, SenML CBOR, TLV, legacy TLV, LwM2M CBOR. */
export const ALLOWED_PCT: readonly number[] = Object.freeze([110, 112, 11542, 1542, 11544]);

export type Checked<T> = { ok: true; value: T } | { ok: false; code: string; diagnostic: string };

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** `k=v` Uri-Query options to an object (first value wins; a bare `k` maps to ''). */
export function parseQuery(parts: string[]): Record<string, string> {
  const q: Record<string, string> = {};
  for (const part of parts) {
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    if (k === '' || RESERVED_KEYS.has(k) || Object.prototype.hasOwnProperty.call(q, k)) continue;
    q[k] = i < 0 ? '' : part.slice(i + 1);
  }
  return q;
}

/** The endpoint name: `ep`, else the (D)TLS identity's id; 4.00 when neither is there. */
export function endpointName(query: Record<string, string>, identity: unknown): Checked<string> {
  const ep = query.ep;
  if (ep !== undefined && ep !== '') return { ok: true, value: ep };
  const id = toPeerIdentity(identity);
  if (id) return { ok: true, value: id.id };
  return { ok: false, code: '4.00', diagnostic: 'missing endpoint name: add ?ep=<name>' };
}

/** `pct` as a content format (1542 read as 11542), undefined when absent; 4.00 for other values. */
export function preferredContentFormat(query: Record<string, string>): Checked<number | undefined> {
  const pct = query.pct;
  if (pct === undefined) return { ok: true, value: undefined };
  const n = /^[0-9]{1,5}$/.test(pct) ? Number(pct) : NaN;
  if (!ALLOWED_PCT.includes(n)) {
    return { ok: false, code: '4.00', diagnostic: `pct=${pct.slice(0, 16)} is not one of ${ALLOWED_PCT.join(', ')}` };
  }
  return { ok: true, value: n === 1542 ? 11542 : n };
}

/** What a pct says of the client's version: pct exists since LwM2M 1.1, LwM2M CBOR (11544) since 1.2. */
export function versionHint(pct: number | undefined): string | undefined {
  if (pct === undefined) return undefined;
  return pct === 11544 ? '1.2' : '1.1';
}

/**
 * Validation of what devices send us: the query of `POST /bs?ep=…&pct=…` and `GET /bspack?ep=…`.
 * Each check returns either the values or the CoAP error code and diagnostic to answer.
 */
import { canonicalFormat, PCT_FORMATS, versionOfPct } from '../codec/formats';
import { toPeerIdentity } from './audit';
import { optionValues, type ParsedPacket } from './coap/message';

/**
 * `pct` values a Bootstrap-Request may carry (the content-format table's `pct` rows, lib/codec/formats.ts): SenML JSON, SenML CBOR, TLV, legacy TLV, LwM2M CBOR, and the legacy
 * LwM2M JSON (11543, draft code 1543). LwM2M 1.1 names 110, 112 and 11542 for pct (OMA-TS-LightweightM2M_Transport-V1_1,
 * Bootstrap-Request) and 1.2 adds 11544; a client asking for LwM2M JSON is answered, not refused: its Writes go
 * in SenML JSON (see contentFormatFor in lib/profile/plan.ts), with the usual 4.15 fallback behind it.
 */
export const ALLOWED_PCT: readonly number[] = PCT_FORMATS;

/** Longest endpoint name by default, bytes of UTF-8. LwM2M sets no limit; 255 fits every name we have met. */
export const MAX_ENDPOINT_BYTES = 255;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** The same, keeping a leading U+FEFF as Buffer#toString does (TextDecoder drops it by default). */
const UTF8_TEXT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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

/**
 * Every Uri-Query option must be valid UTF-8 (RFC 7252 §5.10.1: options of format "string" are UTF-8).
 * Decoding invalid bytes would turn each bad sequence into U+FFFD, and so many different names into one.
 */
export function checkQueryBytes(p: ParsedPacket): Checked<true> {
  for (const v of optionValues(p, 'Uri-Query')) {
    try {
      UTF8.decode(v);
    } catch {
      return { ok: false, code: '4.00', diagnostic: 'query not UTF-8' };
    }
  }
  return { ok: true, value: true };
}

const QUERY_NOT_UTF8: Checked<never> = Object.freeze({ ok: false, code: '4.00', diagnostic: 'query not UTF-8' });

/**
 * checkQueryBytes and uriQuery in one pass: the Uri-Query options as text, each decoded once; the 4.00 to
 * answer when one is not valid UTF-8 (RFC 7252 §5.10.1).
 */
export function queryTexts(p: ParsedPacket): string[] | Checked<never> {
  const out: string[] = [];
  for (const o of p.options) {
    if (o.name !== 'Uri-Query') continue;
    try {
      out.push(UTF8_TEXT.decode(o.value));
    } catch {
      return QUERY_NOT_UTF8;
    }
  }
  return out;
}

/**
 * The endpoint name: `ep`, else the (D)TLS identity's id; 4.00 when neither is there, when `ep` is longer
 * than `maxBytes` of UTF-8, or when it holds control characters.
 */
export function endpointName(query: Record<string, string>, identity: unknown, maxBytes = MAX_ENDPOINT_BYTES): Checked<string> {
  const ep = query.ep;
  if (ep !== undefined && ep !== '') {
    if (Buffer.byteLength(ep, 'utf8') > maxBytes) return { ok: false, code: '4.00', diagnostic: `ep over ${maxBytes} bytes` };
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f]/.test(ep)) return { ok: false, code: '4.00', diagnostic: 'control character in ep' };
    return { ok: true, value: ep };
  }
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
  return { ok: true, value: canonicalFormat(n) };
}

/** What a pct says of the client's version: pct exists since LwM2M 1.1, LwM2M CBOR (11544) since 1.2. */
export function versionHint(pct: number | undefined): string | undefined {
  return versionOfPct(pct);
}

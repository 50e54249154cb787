/**
 * One resource value between the JSON an operator writes and the typed in-memory value (see types.ts).
 *
 * JSON forms accepted, per type:
 *  - string, corelnk: a string;
 *  - integer: a whole number, or a decimal string for values beyond 2^53 (held as bigint), -2^63..2^63-1;
 *  - unsigned: the same, 0..2^64-1;
 *  - time: whole seconds since 1970 (number), or an ISO 8601 date-time string ("2026-01-01T00:00:00Z");
 *  - float: a finite number;
 *  - boolean: true or false;
 *  - opaque: a plain string (its UTF-8 bytes, e.g. a PSK identity), `{"hex": "0a1b…"}` (spaces and colons
 *    allowed between bytes) or `{"base64": "…"}`; a Buffer/Uint8Array is taken as is;
 *  - objlnk: "OID:IID" (e.g. "11:0"), or `{"objectId": 11, "instanceId": 0}`;
 *  - none (executable): no value can be written.
 * Integer-like values are also checked against a numeric range enumeration of the definition ("0..4").
 */
import { ValueError } from './errors';
import type { ObjLnk, ResourceDefinition, ResourceType, ResourceValue } from './types';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (Buffer.isBuffer(v)) return 'bytes';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** A whole number as number (safe range) or bigint; undefined when `v` is no whole number. */
function toWhole(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?(0|[1-9][0-9]*)$/.test(v.trim())) {
    const b = BigInt(v.trim());
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  return undefined;
}

/** Numeric range from a registry RangeEnumeration of the form "a..b", else undefined. */
export function numericRange(def: ResourceDefinition | undefined): [number, number] | undefined {
  const m = def?.rangeEnumeration ? /^\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*$/.exec(def.rangeEnumeration) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function checkRange(path: string, n: number | bigint, def: ResourceDefinition | undefined): void {
  const r = numericRange(def);
  if (r && (n < r[0] || n > r[1])) {
    throw new ValueError(path, `${String(n)} is outside the allowed range ${r[0]}..${r[1]} of "${def?.name}"`);
  }
}

function opaqueFromJson(path: string, v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.hex === 'string') {
      const hex = o.hex.replace(/[\s:]/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) {
        throw new ValueError(path, 'hex must be pairs of hex digits (0-9, a-f), e.g. {"hex": "0a1b2c"}');
      }
      return Buffer.from(hex, 'hex');
    }
    if (keys.length === 1 && typeof o.base64 === 'string') {
      const b64 = o.base64.replace(/\s/g, '');
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new ValueError(path, 'base64 contains characters outside A-Z a-z 0-9 + / = - _');
      return Buffer.from(b64, b64.includes('-') || b64.includes('_') ? 'base64url' : 'base64');
    }
  }
  throw new ValueError(path, `expected bytes: a text (UTF-8), {"hex": "…"} or {"base64": "…"}, got ${describe(v)}`);
}

function objlnkFromJson(path: string, v: unknown): ObjLnk {
  let oid: unknown;
  let iid: unknown;
  if (typeof v === 'string') {
    const m = /^\s*(\d{1,5})\s*:\s*(\d{1,5})\s*$/.exec(v);
    if (m) [oid, iid] = [Number(m[1]), Number(m[2])];
  } else if (v && typeof v === 'object' && !Array.isArray(v)) {
    oid = (v as Record<string, unknown>).objectId;
    iid = (v as Record<string, unknown>).instanceId;
  }
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535;
  if (!ok(oid) || !ok(iid)) {
    throw new ValueError(path, `expected an object link "OID:IID" with ids 0..65535 (e.g. "11:0"), got ${describe(v)}`);
  }
  return { objectId: oid, instanceId: iid };
}

/** Converts the JSON form of one value to the typed value of `type`. Throws ValueError naming `path`. */
export function valueFromJson(type: ResourceType, json: unknown, path: string, def?: ResourceDefinition): ResourceValue {
  switch (type) {
    case 'string':
    case 'corelnk':
      if (typeof json !== 'string') throw new ValueError(path, `expected a text, got ${describe(json)}`);
      return json;
    case 'boolean':
      if (typeof json !== 'boolean') throw new ValueError(path, `expected true or false, got ${describe(json)}`);
      return json;
    case 'float':
      if (typeof json !== 'number' || !Number.isFinite(json)) throw new ValueError(path, `expected a number, got ${describe(json)}`);
      checkRange(path, json, def);
      return json;
    case 'integer':
    case 'unsigned': {
      const n = toWhole(json);
      if (n === undefined) throw new ValueError(path, `expected a whole number, got ${describe(json)}`);
      const [min, max] = type === 'integer' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      const b = BigInt(n);
      if (b < min || b > max) {
        throw new ValueError(path, `${b} does not fit ${type === 'integer' ? 'a signed 64-bit integer' : 'an unsigned 64-bit integer (0 or more)'}`);
      }
      checkRange(path, n, def);
      return n;
    }
    case 'time': {
      if (typeof json === 'string' && /^\d{4}-\d\d-\d\dT/.test(json)) {
        const ms = Date.parse(json);
        if (Number.isNaN(ms)) throw new ValueError(path, `"${json}" is not a valid ISO 8601 date-time`);
        return Math.floor(ms / 1000);
      }
      const n = toWhole(json);
      if (n === undefined) throw new ValueError(path, `expected a time in whole seconds since 1970 or an ISO 8601 date-time, got ${describe(json)}`);
      if (BigInt(n) < INT64_MIN || BigInt(n) > INT64_MAX) throw new ValueError(path, `${n} does not fit a 64-bit time`);
      return n;
    }
    case 'opaque':
      return opaqueFromJson(path, json);
    case 'objlnk':
      return objlnkFromJson(path, json);
    case 'none':
      throw new ValueError(path, `"${def?.name ?? 'this resource'}" is executable and holds no value`);
  }
}

/** Bytes that print as text: valid UTF-8 without control characters (tab, CR, LF allowed). */
function isPrintableUtf8(b: Buffer): boolean {
  const s = b.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return Buffer.from(s, 'utf8').equals(b) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.test(s);
}

export type JsonValue = string | number | boolean | { hex: string };

/**
 * The JSON form of a typed value, readable and round-trippable through valueFromJson: opaque bytes that
 * are printable UTF-8 become a plain string, others `{"hex": …}`; objlnk "OID:IID"; bigint a decimal string.
 */
export function valueToJson(type: ResourceType, value: ResourceValue): JsonValue {
  if (Buffer.isBuffer(value)) return isPrintableUtf8(value) ? value.toString('utf8') : { hex: value.toString('hex') };
  if (value instanceof Uint8Array) return valueToJson(type, Buffer.from(value));
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') return `${value.objectId}:${value.instanceId}`;
  return value;
}

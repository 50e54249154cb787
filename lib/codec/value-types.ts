/**
 * Typed resource values for the codecs: checking what a caller wants encoded, and turning what a format
 * carries (a number, a text, bytes, a boolean, an object link text) into the value of the resource's type.
 */
import type { ObjLnk, ResourceType, ResourceValue } from '../model/types';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A whole number as a JS number when it is exact, else as bigint (the in-memory rule of types.ts). */
export function normalizeInt(v: bigint): number | bigint {
  return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
}

export function isObjLnk(v: unknown): v is ObjLnk {
  if (!v || typeof v !== 'object' || Buffer.isBuffer(v)) return false;
  const o = v as Partial<ObjLnk>;
  return isU16(o.objectId) && isU16(o.instanceId);
}

function isU16(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

export function formatObjlnk(v: ObjLnk): string {
  return `${v.objectId}:${v.instanceId}`;
}

/** "OID:IID" with two decimal 16-bit values, else undefined. */
export function parseObjlnk(s: string): ObjLnk | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const objectId = Number(m[1]);
  const instanceId = Number(m[2]);
  return objectId <= 65535 && instanceId <= 65535 ? { objectId, instanceId } : undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

/** Integer range of an integer-like type. */
function intRange(type: ResourceType): [bigint, bigint] {
  return type === 'unsigned' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX];
}

/**
 * Checks a value a caller wants to encode against the resource type and returns it normalized
 * (Uint8Array -> Buffer, bigint in the safe range -> number). Returns an error text instead when it does not fit.
 */
export function checkValue(type: ResourceType, value: unknown): { value: ResourceValue } | { error: string } {
  switch (type) {
    case 'string':
    case 'corelnk':
      if (typeof value !== 'string') return { error: `expected a string for a ${type} resource, got ${describe(value)}` };
      return LONE_SURROGATE.test(value) ? { error: 'the string holds a lone UTF-16 surrogate: it has no UTF-8 form' } : { value };
    case 'integer':
    case 'unsigned':
    case 'time': {
      let b: bigint;
      if (typeof value === 'bigint') b = value;
      else if (typeof value === 'number' && Number.isInteger(value)) b = BigInt(value);
      else return { error: `expected a whole number for a ${type} resource, got ${describe(value)} ${typeof value === 'number' ? value : ''}`.trim() };
      const [lo, hi] = intRange(type);
      if (b < lo || b > hi) return { error: `${b} is outside the ${type} range ${lo}..${hi}` };
      return { value: normalizeInt(b) };
    }
    case 'float':
      return typeof value === 'number' ? { value } : { error: `expected a number for a float resource, got ${describe(value)}` };
    case 'boolean':
      return typeof value === 'boolean' ? { value } : { error: `expected true or false for a boolean resource, got ${describe(value)}` };
    case 'opaque':
      if (Buffer.isBuffer(value)) return { value };
      if (value instanceof Uint8Array) return { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) };
      return { error: `expected bytes (Buffer) for an opaque resource, got ${describe(value)}` };
    case 'objlnk':
      return isObjLnk(value)
        ? { value: { objectId: value.objectId, instanceId: value.instanceId } }
        : { error: `expected {objectId, instanceId} (0..65535 each) for an objlnk resource, got ${describe(value)}` };
    case 'none':
      return { error: 'an executable resource carries no value' };
    default:
      return { error: `unknown resource type "${String(type)}"` };
  }
}

/** What a self-describing format (SenML, CBOR) carries before the model gives it a type. */
export type LooseValue =
  | { kind: 'number'; value: number | bigint }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'bytes'; value: Buffer }
  | { kind: 'objlnk'; value: string };

/**
 * The typed value of a resource from what the payload carries. `type` undefined = the model does not know
 * the resource: the carried kind decides (a whole number -> integer, another number -> float, ...).
 */
export function typedValue(
  type: ResourceType | undefined,
  loose: LooseValue,
): { type: ResourceType; value: ResourceValue } | { error: string } {
  if (type === undefined) {
    switch (loose.kind) {
      case 'number':
        return typeof loose.value === 'bigint' || Number.isInteger(loose.value)
          ? typedValue('integer', loose)
          : { type: 'float', value: loose.value };
      case 'string':
        return { type: 'string', value: loose.value };
      case 'boolean':
        return { type: 'boolean', value: loose.value };
      case 'bytes':
        return { type: 'opaque', value: loose.value };
      case 'objlnk':
        return typedValue('objlnk', loose);
    }
  }
  const wrong = (): { error: string } => ({ error: `wrong value type for a ${type} resource: the payload carries ${loose.kind === 'bytes' ? 'bytes' : `a ${loose.kind}`}` });
  switch (type) {
    case 'integer':
    case 'unsigned':
    case 'time': {
      if (loose.kind !== 'number') return wrong();
      const v = loose.value;
      if (typeof v === 'number' && !Number.isInteger(v)) return { error: `${v} is not a whole number (${type} resource)` };
      const b = BigInt(v);
      const [lo, hi] = intRange(type);
      if (b < lo || b > hi) return { error: `${b} is outside the ${type} range ${lo}..${hi}` };
      return { type, value: normalizeInt(b) };
    }
    case 'float':
      return loose.kind === 'number' ? { type, value: Number(loose.value) } : wrong();
    case 'boolean':
      return loose.kind === 'boolean' ? { type, value: loose.value } : wrong();
    case 'string':
    case 'corelnk':
      return loose.kind === 'string' ? { type, value: loose.value } : wrong();
    case 'opaque':
      return loose.kind === 'bytes' ? { type, value: loose.value } : wrong();
    case 'objlnk': {
      if (loose.kind !== 'objlnk' && loose.kind !== 'string') return wrong();
      const l = parseObjlnk(loose.value);
      return l ? { type, value: l } : { error: `"${loose.value}" is not an object link "OID:IID"` };
    }
    case 'none':
      return { error: 'an executable resource carries no value' };
    default:
      return { error: `unknown resource type "${String(type)}"` };
  }
}

/**
 * cbor-x behind one door: an encoder that writes plain CBOR maps (no tag 259, no record extension, no
 * typed-array tags) and shortest integers, and a decoder that keeps Maps with whatever keys the peer used.
 * Every cbor-x exception becomes a CodecError.
 */
import { Decoder, Encoder, Tag } from 'cbor-x';
import type { CodecContext } from './context';
import { guard } from './context';
import { type CborScan, scanCbor } from './cbor-scan';
import type { ObjLnk, ResourceType, ResourceValue } from '../model/types';
import { formatObjlnk, type LooseValue } from './value-types';

// useTag259ForMaps is read by cbor-x 1.6 but missing from its typings.
const encoderOptions = { useRecords: false, useTag259ForMaps: false, tagUint8Array: false, mapsAsObjects: false };
const encoder = new Encoder(encoderOptions as ConstructorParameters<typeof Encoder>[0]);
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

export function cborEncode(ctx: CodecContext, value: unknown): Buffer {
  return guard(ctx, 'CBOR encoding failed', () => Buffer.from(encoder.encode(value)));
}

/** Decodes one CBOR item (after the well-formedness scan). */
export function cborDecode(ctx: CodecContext, payload: Buffer): { value: unknown; scan: CborScan } {
  const scan = scanCbor(ctx, payload);
  // cbor-x caches a DataView on the buffer it reads: give it a view of its own, not the caller's Buffer.
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const value = guard(ctx, 'invalid CBOR', () => decoder.decode(view) as unknown);
  return { value, scan };
}

/**
 * A whole number as cbor-x should see it to write a CBOR integer: numbers outside 32 bits become bigint
 * (cbor-x would write a float64), bigints inside them become numbers (cbor-x would write 8 bytes).
 */
export function cborInt(v: number | bigint): number | bigint {
  const b = BigInt(v);
  return b >= -(2n ** 32n) && b < 2n ** 32n ? Number(b) : b;
}

/** What a decoded CBOR item carries as a resource value; undefined for maps, arrays, null and the like. */
export function looseFromCbor(v: unknown): LooseValue | undefined {
  while (v instanceof Tag) v = v.value;
  if (typeof v === 'number' || typeof v === 'bigint') return { kind: 'number', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v };
  if (v instanceof Uint8Array) return { kind: 'bytes', value: Buffer.from(v) };
  if (v instanceof Date) {
    const s = v.getTime() / 1000;
    return Number.isFinite(s) ? { kind: 'number', value: s } : undefined;
  }
  return undefined;
}

export function describeCbor(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (v instanceof Map) return 'a map';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** A checked resource value as the item cbor-x should write (objlnk as "OID:IID" text). */
export function cborValue(type: ResourceType, v: ResourceValue): unknown {
  switch (type) {
    case 'integer':
    case 'unsigned':
    case 'time':
      return cborInt(v as number | bigint);
    case 'objlnk':
      return formatObjlnk(v as ObjLnk);
    default:
      return v;
  }
}

/**
 * OMA-TLV, bytes layer: bytes <-> TLV records (no knowledge of the object model).
 * Header: type byte (kind in bits 7-6, 16-bit id in bit 5, length-field size in bits 4-3, short length in
 * bits 2-0), 1 or 2 id bytes, 0-3 length bytes; see OMA-TS-LightweightM2M_Core, Data Formats: TLV.
 */
import type { CodecContext } from './context';

export enum TlvKind {
  ObjectInstance = 0,
  ResourceInstance = 1,
  MultipleResource = 2,
  Resource = 3,
}

export const TLV_KIND_NAMES = ['Object Instance', 'Resource Instance', 'Multiple Resource', 'Resource'];

export interface TlvRecord {
  kind: TlvKind;
  id: number;
  /** Raw value (Resource, Resource Instance). */
  value?: Buffer;
  /** Nested records (Object Instance, Multiple Resource). */
  children?: TlvRecord[];
  /** Byte offset of the header and of the value in the parsed payload. */
  offset?: number;
  valueOffset?: number;
}

const MAX_LENGTH = 0xffffff;

/** Parses a TLV sequence; structural errors (truncation, nesting) fail with the byte offset. */
export function parseTlv(ctx: CodecContext, buf: Buffer, start = 0, end = buf.length, parent?: TlvKind): TlvRecord[] {
  const out: TlvRecord[] = [];
  let off = start;
  const need = (n: number, at: number, what: string): void => {
    if (off + n > end) ctx.fail(`truncated TLV: ${what} needs ${n} byte(s), ${end - off} left`, at);
  };
  while (off < end) {
    const header = off;
    const t = buf[off++];
    const kind = (t >> 6) as TlvKind;
    const idBytes = t & 0x20 ? 2 : 1;
    need(idBytes, header, 'identifier');
    const id = idBytes === 2 ? buf.readUInt16BE(off) : buf[off];
    off += idBytes;
    const lenType = (t >> 3) & 3;
    let len: number;
    if (lenType === 0) len = t & 7;
    else {
      need(lenType, header, 'length field');
      len = buf.readUIntBE(off, lenType);
      off += lenType;
    }
    if (off + len > end) {
      ctx.fail(`TLV length ${len} runs past the end of its container (${end - off} byte(s) left)`, header);
    }
    const allowed =
      parent === undefined ||
      (parent === TlvKind.ObjectInstance && (kind === TlvKind.Resource || kind === TlvKind.MultipleResource)) ||
      (parent === TlvKind.MultipleResource && kind === TlvKind.ResourceInstance);
    if (!allowed) ctx.fail(`a ${TLV_KIND_NAMES[kind]} TLV cannot sit inside a ${TLV_KIND_NAMES[parent!]} TLV`, header);
    const rec: TlvRecord = { kind, id, offset: header, valueOffset: off };
    if (kind === TlvKind.ObjectInstance || kind === TlvKind.MultipleResource) {
      rec.children = parseTlv(ctx, buf, off, off + len, kind);
    } else {
      rec.value = buf.subarray(off, off + len);
    }
    off += len;
    out.push(rec);
  }
  return out;
}

function header(kind: TlvKind, id: number, len: number): Buffer {
  const wide = id > 0xff;
  const lenBytes = len < 8 ? 0 : len <= 0xff ? 1 : len <= 0xffff ? 2 : 3;
  const h = Buffer.alloc(1 + (wide ? 2 : 1) + lenBytes);
  h[0] = (kind << 6) | (wide ? 0x20 : 0) | (lenBytes << 3) | (lenBytes === 0 ? len : 0);
  let o = 1;
  if (wide) h.writeUInt16BE(id, o);
  else h[o] = id;
  o += wide ? 2 : 1;
  if (lenBytes) h.writeUIntBE(len, o, lenBytes);
  return h;
}

/** Serializes records with the shortest id and length fields (what Leshan, Anjay and Wakaama emit). */
export function serializeTlv(ctx: CodecContext, records: TlvRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    if (!Number.isInteger(r.id) || r.id < 0 || r.id > 0xffff) ctx.fail(`TLV id ${r.id} is not in 0..65535`);
    const body = r.children ? serializeTlv(ctx, r.children) : (r.value ?? Buffer.alloc(0));
    if (body.length > MAX_LENGTH) ctx.fail(`TLV value of ${body.length} bytes exceeds ${MAX_LENGTH}`);
    parts.push(header(r.kind, r.id, body.length), body);
  }
  return Buffer.concat(parts);
}

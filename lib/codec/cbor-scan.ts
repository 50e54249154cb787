/**
 * A well-formedness pass over CBOR bytes before cbor-x decodes them: truncation, reserved header values,
 * stray break codes, trailing bytes, excessive nesting and invalid UTF-8 in text strings (which cbor-x would
 * turn into U+FFFD) fail here with their byte offset. It also records where each element of a top-level
 * array starts, so that record-level errors can point at their record.
 */
import type { CodecContext } from './context';
import { invalidUtf8Offset } from './utf8';

const MAX_DEPTH = 32;

export interface CborScan {
  /** Offsets of the elements of the top-level array (empty when the top level is not an array). */
  itemOffsets: number[];
}

export function scanCbor(ctx: CodecContext, buf: Buffer): CborScan {
  const itemOffsets: number[] = [];
  if (buf.length === 0) ctx.fail('empty CBOR payload', 0);

  const arg = (off: number, ai: number, start: number): [number, number] => {
    if (ai < 24) return [ai, off];
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
    if (n === 0) ctx.fail(`malformed CBOR: reserved additional information ${ai}`, start);
    if (off + n > buf.length) ctx.fail('truncated CBOR: header runs past the end', start);
    const v = n === 8 ? Number(buf.readBigUInt64BE(off)) : buf.readUIntBE(off, n);
    return [v, off + n];
  };

  // Returns the offset after the item; `top` collects the elements of a top-level array.
  const item = (off: number, depth: number, top: boolean): number => {
    if (depth > MAX_DEPTH) ctx.fail(`CBOR nested deeper than ${MAX_DEPTH} levels`, off);
    if (off >= buf.length) ctx.fail('truncated CBOR: an item is missing', off);
    const start = off;
    const ib = buf[off++];
    const major = ib >> 5;
    const ai = ib & 31;
    if (ai === 31) {
      if (major === 7) ctx.fail('CBOR break code outside an indefinite-length item', start);
      if (major === 2 || major === 3) ctx.fail('indefinite-length CBOR strings are not supported', start);
      if (major !== 4 && major !== 5) ctx.fail(`malformed CBOR: major type ${major} cannot be indefinite`, start);
      for (;;) {
        if (off >= buf.length) ctx.fail('truncated CBOR: indefinite-length item without a break', start);
        if (buf[off] === 0xff) return off + 1;
        if (top) itemOffsets.push(off);
        off = item(off, depth + 1, false);
      }
    }
    let v: number;
    [v, off] = arg(off, ai, start);
    switch (major) {
      case 0:
      case 1:
        return off;
      case 2:
      case 3: {
        if (v > buf.length - off) ctx.fail(`truncated CBOR: a string of ${v} bytes runs past the end`, start);
        if (major === 3) {
          const bad = invalidUtf8Offset(buf, off, off + v);
          if (bad >= 0) ctx.fail('invalid UTF-8 in a CBOR text string', bad);
        }
        return off + v;
      }
      case 4:
      case 5: {
        const n = major === 5 ? v * 2 : v;
        if (n > buf.length - off) ctx.fail(`truncated CBOR: ${v} ${major === 5 ? 'pairs' : 'items'} cannot fit in what is left`, start);
        for (let k = 0; k < n; k++) {
          if (top) itemOffsets.push(off);
          off = item(off, depth + 1, false);
        }
        return off;
      }
      case 6:
        return item(off, depth + 1, false);
      default:
        if (ai < 20 || ai === 24) ctx.fail(`unsupported CBOR simple value`, start);
        return off;
    }
  };

  const first = buf[0];
  const end = item(0, 0, first >> 5 === 4);
  if (end !== buf.length) ctx.fail(`${buf.length - end} unexpected byte(s) after the CBOR item`, end);
  return { itemOffsets };
}

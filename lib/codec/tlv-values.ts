/** OMA-TLV value fields <-> typed values (OMA-TS-LightweightM2M_Core, Data Formats: TLV, value encodings). */
import type { ObjLnk, ResourceType, ResourceValue } from '../model/types';
import type { CodecContext } from './context';
import { decodeUtf8 } from './utf8';
import { normalizeInt } from './value-types';

function intBytes(v: bigint, unsigned: boolean): Buffer {
  const widths = [1, 2, 4, 8];
  for (const w of widths) {
    const bits = BigInt(w * 8);
    const fits = unsigned ? v < 1n << bits : v >= -(1n << (bits - 1n)) && v < 1n << (bits - 1n);
    if (fits) {
      const b = Buffer.alloc(8);
      if (unsigned) b.writeBigUInt64BE(v);
      else b.writeBigInt64BE(v);
      return b.subarray(8 - w);
    }
  }
  throw new RangeError(`${v} does not fit 64 bits`);
}

/** Value bytes of an already checked value. */
export function encodeTlvValue(type: ResourceType, value: ResourceValue): Buffer {
  switch (type) {
    case 'integer':
    case 'time':
      return intBytes(BigInt(value as number | bigint), false);
    case 'unsigned':
      return intBytes(BigInt(value as number | bigint), true);
    case 'float': {
      const x = value as number;
      if (Number.isNaN(x) || Math.fround(x) === x) {
        const b = Buffer.alloc(4);
        b.writeFloatBE(x);
        return b;
      }
      const b = Buffer.alloc(8);
      b.writeDoubleBE(x);
      return b;
    }
    case 'boolean':
      return Buffer.from([value ? 1 : 0]);
    case 'string':
    case 'corelnk':
      return Buffer.from(value as string, 'utf8');
    case 'opaque':
      return value as Buffer;
    case 'objlnk': {
      const l = value as ObjLnk;
      const b = Buffer.alloc(4);
      b.writeUInt16BE(l.objectId, 0);
      b.writeUInt16BE(l.instanceId, 2);
      return b;
    }
    default:
      throw new RangeError(`type ${type} has no TLV value`);
  }
}

/** Typed value from value bytes; `offset` is where the value starts in the payload, `path` the resource. */
export function decodeTlvValue(ctx: CodecContext, type: ResourceType, bytes: Buffer, offset: number, path: string): ResourceValue {
  const len = bytes.length;
  switch (type) {
    case 'integer':
    case 'time':
    case 'unsigned': {
      if (len !== 1 && len !== 2 && len !== 4 && len !== 8) {
        ctx.fail(`a ${type} value must be 1, 2, 4 or 8 bytes, got ${len}`, offset, path);
      }
      const padded = Buffer.alloc(8, type !== 'unsigned' && bytes[0] & 0x80 ? 0xff : 0);
      bytes.copy(padded, 8 - len);
      return normalizeInt(type === 'unsigned' ? padded.readBigUInt64BE() : padded.readBigInt64BE());
    }
    case 'float':
      if (len === 4) return bytes.readFloatBE();
      if (len === 8) return bytes.readDoubleBE();
      return ctx.fail(`a float value must be 4 or 8 bytes, got ${len}`, offset, path);
    case 'boolean':
      if (len !== 1 || bytes[0] > 1) ctx.fail(`a boolean value must be one byte 00 or 01, got ${bytes.toString('hex') || 'nothing'}`, offset, path);
      return bytes[0] === 1;
    case 'string':
    case 'corelnk':
      return decodeUtf8(ctx, bytes, offset, path);
    case 'opaque':
      return Buffer.from(bytes);
    case 'objlnk':
      if (len !== 4) ctx.fail(`an objlnk value must be 4 bytes, got ${len}`, offset, path);
      return { objectId: bytes.readUInt16BE(0), instanceId: bytes.readUInt16BE(2) };
    default:
      return ctx.fail(`a ${type} resource carries no value`, offset, path);
  }
}

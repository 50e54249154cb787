/**
 * Plain text (CF 0): one value as UTF-8 text. Numbers in decimal (floats without exponent), booleans 0/1,
 * opaque as base64, object links "OID:IID". Resources the model does not know decode as strings.
 */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel, ResourceType, ResourceValue } from '../model/types';
import { fromBase64Lenient } from './base64';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { singleNode, singleValueOf, targetType } from './single-value';
import { decodeUtf8 } from './utf8';
import { formatObjlnk, type LooseValue, typedValue } from './value-types';
import { FORMATS, formatCodes } from './formats';

export const TEXT_FORMAT = FORMATS.TEXT.code;

/** Decimal text of a finite number without an exponent (6.667e-11 -> "0.00000000006667"). */
export function plainDecimal(x: number): string {
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const exp = Number(s.slice(e + 1));
  let mant = s.slice(0, e);
  const neg = mant.startsWith('-');
  if (neg) mant = mant.slice(1);
  const [ip, fp = ''] = mant.split('.');
  const digits = ip + fp;
  const point = ip.length + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (neg ? '-' : '') + out;
}

function toText(ctx: CodecContext, type: ResourceType, v: ResourceValue): string {
  switch (type) {
    case 'boolean':
      return v ? '1' : '0';
    case 'float':
      if (!Number.isFinite(v as number)) ctx.fail(`${String(v)} has no plain-text form`);
      return plainDecimal(v as number);
    case 'opaque':
      return (v as Buffer).toString('base64');
    case 'objlnk':
      return formatObjlnk(v as { objectId: number; instanceId: number });
    default:
      return String(v);
  }
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function fromText(ctx: CodecContext, type: ResourceType | undefined, text: string): { type: ResourceType; value: ResourceValue } {
  let loose: LooseValue;
  const t = text.trim();
  switch (type) {
    case undefined:
    case 'string':
    case 'corelnk':
      loose = { kind: 'string', value: text };
      break;
    case 'integer':
    case 'unsigned':
    case 'time':
      if (!INT.test(t)) ctx.fail(`"${t.slice(0, 40)}" is not a whole number (${type} resource)`, 0);
      loose = { kind: 'number', value: BigInt(t) };
      break;
    case 'float':
      if (!FLOAT.test(t)) ctx.fail(`"${t.slice(0, 40)}" is not a decimal number (float resource)`, 0);
      loose = { kind: 'number', value: Number(t) };
      break;
    case 'boolean':
      if (t !== '0' && t !== '1') ctx.fail(`a boolean is "0" or "1" in plain text, got "${t.slice(0, 40)}"`, 0);
      loose = { kind: 'boolean', value: t === '1' };
      break;
    case 'opaque': {
      const b = fromBase64Lenient(t);
      if (!b) ctx.fail('an opaque value in plain text must be base64', 0);
      loose = { kind: 'bytes', value: b };
      break;
    }
    case 'objlnk':
      loose = { kind: 'objlnk', value: t };
      break;
    default:
      return ctx.fail(`a ${type} resource has no plain-text form`);
  }
  const tv = typedValue(type, loose);
  if ('error' in tv) return ctx.fail(tv.error, 0);
  return tv;
}

export const textCodec: Codec = {
  formats: formatCodes('TEXT'),
  name: 'text',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(TEXT_FORMAT, path.toString());
    const { type, value } = singleValueOf(ctx, model, path, node, 'plain text');
    return Buffer.from(toText(ctx, type, value), 'utf8');
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(TEXT_FORMAT, path.toString());
    const type = targetType(ctx, model, path, 'plain text');
    const text = decodeUtf8(ctx, asBuffer(ctx, payload));
    const tv = fromText(ctx, type, text);
    return singleNode(path, tv.type, tv.value);
  },
};

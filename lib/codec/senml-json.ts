/**
 * SenML JSON (CF 110). Reads with a bigint-aware JSON reader (64-bit values stay exact), `vd` in any base64
 * form; writes compact JSON with `vd` as base64url without padding.
 */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { fromBase64Lenient, toBase64Url } from './base64';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { jsonNumber, type JsonObject, JsonSyntaxError, type JsonDatum, parseJson } from './json-text';
import { IGNORED_LABELS, recordsFromTree, type SenmlRecord, treeFromRecords } from './senml-records';
import { decodeUtf8 } from './utf8';
import { FORMATS, formatCodes } from './formats';

export const SENML_JSON_FORMAT = FORMATS.SENML_JSON.code;

/** Parses JSON text from a payload; syntax errors fail with their byte offset. */
export function readJson(ctx: CodecContext, payload: Buffer): { value: JsonDatum; offsetOf: (o: object) => number | undefined } {
  const text = decodeUtf8(ctx, payload);
  const byteOffset = (idx: number): number => Buffer.byteLength(text.slice(0, idx), 'utf8');
  try {
    const { value, offsets } = parseJson(text);
    return {
      value,
      offsetOf: (o) => {
        const i = offsets.get(o);
        return i === undefined ? undefined : byteOffset(i);
      },
    };
  } catch (e) {
    if (e instanceof JsonSyntaxError) return ctx.fail(`invalid JSON: ${e.message}`, byteOffset(e.index));
    throw e;
  }
}

function isObject(v: JsonDatum): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function recordFromJson(ctx: CodecContext, o: JsonDatum, idx: number, offset: number | undefined): SenmlRecord {
  if (!isObject(o)) return ctx.fail(`record ${idx} is not a JSON object`, offset);
  const r: SenmlRecord = { offset };
  const bad = (k: string, want: string): never => ctx.fail(`record ${idx}: "${k}" must be ${want}`, offset);
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case 'bn':
      case 'n':
      case 'vs':
      case 'vlo':
        if (typeof v !== 'string') bad(k, 'a string');
        r[k] = v as string;
        break;
      case 'v':
        if (typeof v !== 'number' && typeof v !== 'bigint') bad(k, 'a number');
        r.v = v as number | bigint;
        break;
      case 'vb':
        if (typeof v !== 'boolean') bad(k, 'true or false');
        r.vb = v as boolean;
        break;
      case 'vd': {
        const b = typeof v === 'string' ? fromBase64Lenient(v) : undefined;
        if (!b) bad(k, 'base64 text');
        r.vd = b;
        break;
      }
      default:
        if (!IGNORED_LABELS.includes(k)) ctx.fail(`record ${idx}: unknown SenML label "${k}"`, offset);
    }
  }
  return r;
}

function recordToJson(r: SenmlRecord): string {
  const parts: string[] = [];
  if (r.bn !== undefined) parts.push(`"bn":${JSON.stringify(r.bn)}`);
  if (r.n !== undefined) parts.push(`"n":${JSON.stringify(r.n)}`);
  if (r.v !== undefined) parts.push(`"v":${jsonNumber(r.v)}`);
  if (r.vs !== undefined) parts.push(`"vs":${JSON.stringify(r.vs)}`);
  if (r.vb !== undefined) parts.push(`"vb":${r.vb}`);
  if (r.vd !== undefined) parts.push(`"vd":"${toBase64Url(r.vd)}"`);
  if (r.vlo !== undefined) parts.push(`"vlo":${JSON.stringify(r.vlo)}`);
  return `{${parts.join(',')}}`;
}

export const senmlJsonCodec: Codec = {
  formats: formatCodes('SENML_JSON'),
  name: 'SenML JSON',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(SENML_JSON_FORMAT, path.toString());
    const records = recordsFromTree(ctx, model, path, node);
    for (const r of records) {
      if (r.v !== undefined && jsonNumber(r.v) === undefined) {
        ctx.fail(`${String(r.v)} has no JSON form`, undefined, r.bn && r.n === undefined ? r.bn : undefined);
      }
    }
    return Buffer.from(`[${records.map(recordToJson).join(',')}]`, 'utf8');
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(SENML_JSON_FORMAT, path.toString());
    const { value, offsetOf } = readJson(ctx, asBuffer(ctx, payload));
    if (!Array.isArray(value)) return ctx.fail('SenML JSON must be an array of records', 0);
    const records = value.map((o, idx) => recordFromJson(ctx, o, idx, typeof o === 'object' && o ? offsetOf(o) : undefined));
    return treeFromRecords(ctx, model, path, records);
  },
};

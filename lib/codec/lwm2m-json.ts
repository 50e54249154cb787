/**
 * LwM2M JSON (CF 11543, legacy 1543; LwM2M 1.0): {"bn": base name, "e": [entries]} with entries
 * {"n", one of "v" | "bv" | "sv" | "ov"}. Opaque travels as standard base64 in "sv"; object links in "ov"
 * (Leshan writes them as "sv": both are read). Entries are mapped onto SenML records and share their rules.
 */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { fromBase64Lenient } from './base64';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { jsonNumber, type JsonObject, type JsonDatum } from './json-text';
import { recordsFromTree, type SenmlRecord, treeFromRecords } from './senml-records';
import { readJson } from './senml-json';
import { FORMATS, formatCodes } from './formats';

export const LWM2M_JSON_FORMAT = FORMATS.LWM2M_JSON.code;

function isObject(v: JsonDatum): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function entryRecord(
  ctx: CodecContext,
  model: ObjectModel,
  base: string,
  e: JsonDatum,
  idx: number,
  offset: number | undefined,
): SenmlRecord {
  if (!isObject(e)) return ctx.fail(`entry ${idx} is not a JSON object`, offset);
  const bad = (k: string, want: string): never => ctx.fail(`entry ${idx}: "${k}" must be ${want}`, offset);
  if (e.n !== undefined && typeof e.n !== 'string') bad('n', 'a string');
  let name = base + ((e.n as string | undefined) ?? '');
  if (name !== '' && !name.startsWith('/')) name = '/' + name;
  const r: SenmlRecord = { offset, n: name };
  let type: string | undefined;
  if (/^(\/\d{1,5}){3,4}$/.test(name)) {
    const ids = name.slice(1).split('/').map(Number);
    type = model.getResource(ids[0], ids[2])?.type;
  }
  for (const [k, v] of Object.entries(e)) {
    switch (k) {
      case 'n':
      case 't':
        break;
      case 'v':
        if (typeof v !== 'number' && typeof v !== 'bigint') bad(k, 'a number');
        r.v = v as number | bigint;
        break;
      case 'bv':
        if (typeof v !== 'boolean') bad(k, 'true or false');
        r.vb = v as boolean;
        break;
      case 'sv':
        if (typeof v !== 'string') bad(k, 'a string');
        if (type === 'opaque') {
          const b = fromBase64Lenient(v as string);
          if (!b) ctx.fail(`entry ${idx}: an opaque value must be base64 in "sv"`, offset, name);
          r.vd = b;
        } else if (type === 'objlnk') r.vlo = v as string;
        else r.vs = v as string;
        break;
      case 'ov':
        if (typeof v !== 'string') bad(k, 'a string "OID:IID"');
        r.vlo = v as string;
        break;
      default:
        ctx.fail(`entry ${idx}: unknown LwM2M JSON label "${k}"`, offset);
    }
  }
  return r;
}

function entryJson(r: SenmlRecord, n: string): string {
  const parts = [`"n":${JSON.stringify(n)}`];
  if (r.v !== undefined) parts.push(`"v":${jsonNumber(r.v)}`);
  if (r.vb !== undefined) parts.push(`"bv":${r.vb}`);
  if (r.vs !== undefined) parts.push(`"sv":${JSON.stringify(r.vs)}`);
  if (r.vd !== undefined) parts.push(`"sv":"${r.vd.toString('base64')}"`);
  if (r.vlo !== undefined) parts.push(`"ov":${JSON.stringify(r.vlo)}`);
  return `{${parts.join(',')}}`;
}

export const lwm2mJsonCodec: Codec = {
  formats: formatCodes('LWM2M_JSON'),
  name: 'LwM2M JSON',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(LWM2M_JSON_FORMAT, path.toString());
    const records = recordsFromTree(ctx, model, path, node);
    // A value at the request path itself is named relative to its parent.
    const atPath = records.length === 1 && records[0].n === undefined;
    const basePath = atPath ? path.parent() : path;
    const bn = basePath.isRoot() ? '/' : `${basePath}/`;
    const entries = records.map((r) => {
      if (r.v !== undefined && jsonNumber(r.v) === undefined) ctx.fail(`${String(r.v)} has no JSON form`);
      return entryJson(r, atPath ? String(path.ids[path.ids.length - 1]) : r.n!);
    });
    return Buffer.from(`{"bn":${JSON.stringify(bn)},"e":[${entries.join(',')}]}`, 'utf8');
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(LWM2M_JSON_FORMAT, path.toString());
    const { value, offsetOf } = readJson(ctx, asBuffer(ctx, payload));
    if (!isObject(value)) return ctx.fail('LwM2M JSON must be an object {"bn": …, "e": […]}', 0);
    for (const k of Object.keys(value)) if (k !== 'bn' && k !== 'bt' && k !== 'e') ctx.fail(`unknown LwM2M JSON label "${k}"`, 0);
    const bn = value.bn ?? '';
    if (typeof bn !== 'string') return ctx.fail('"bn" must be a string', 0);
    const e = value.e;
    if (!Array.isArray(e)) return ctx.fail('"e" must be an array of entries', 0);
    const records = e.map((x, idx) => entryRecord(ctx, model, bn, x, idx, x !== null && typeof x === 'object' ? offsetOf(x) : undefined));
    return treeFromRecords(ctx, model, path, records);
  },
};


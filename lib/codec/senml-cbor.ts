/**
 * SenML CBOR (CF 112): records as CBOR maps with the integer labels of RFC 8428 (bn -2, n 0, v 2, vs 3,
 * vb 4, vd 8) and the text key "vlo". On input, maps may use integer or text keys.
 */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { cborDecode, cborEncode, cborInt, describeCbor, looseFromCbor } from './cbor';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { recordsFromTree, type SenmlRecord, treeFromRecords } from './senml-records';
import { FORMATS, formatCodes } from './formats';

export const SENML_CBOR_FORMAT = FORMATS.SENML_CBOR.code;

/** Integer labels of RFC 8428 §6 and the names they stand for. */
const LABELS = new Map<number, string>([
  [-1, 'bver'],
  [-2, 'bn'],
  [-3, 'bt'],
  [-4, 'bu'],
  [0, 'n'],
  [1, 'u'],
  [2, 'v'],
  [3, 'vs'],
  [4, 'vb'],
  [5, 's'],
  [6, 't'],
  [7, 'ut'],
  [8, 'vd'],
]);
const IGNORED = new Set(['bver', 'bt', 'bu', 'u', 's', 't', 'ut']);
const TEXT_LABELS = new Set([...LABELS.values(), 'vlo']);

function recordFromCbor(ctx: CodecContext, m: unknown, idx: number, offset: number | undefined): SenmlRecord {
  if (!(m instanceof Map)) return ctx.fail(`record ${idx} is ${describeCbor(m)}, not a CBOR map`, offset);
  const r: SenmlRecord = { offset };
  const bad = (k: string, want: string, got: unknown): never =>
    ctx.fail(`record ${idx}: "${k}" must be ${want}, got ${describeCbor(got)}`, offset);
  for (const [key, v] of m as Map<unknown, unknown>) {
    const k = typeof key === 'number' ? LABELS.get(key) : typeof key === 'string' && TEXT_LABELS.has(key) ? key : undefined;
    if (k === undefined) return ctx.fail(`record ${idx}: unknown SenML label ${JSON.stringify(typeof key === 'bigint' ? String(key) : key) ?? String(key)}`, offset);
    if (k in r) return ctx.fail(`record ${idx}: label "${k}" given twice`, offset);
    switch (k) {
      case 'bn':
      case 'n':
      case 'vs':
      case 'vlo':
        if (typeof v !== 'string') bad(k, 'a text string', v);
        r[k] = v as string;
        break;
      case 'v': {
        const n = looseFromCbor(v); // unwraps tags (1: epoch time, 4: decimal fraction, 2/3: bignum)
        if (n?.kind !== 'number') return bad(k, 'a number', v);
        r.v = n.value as number | bigint;
        break;
      }
      case 'vb':
        if (typeof v !== 'boolean') bad(k, 'true or false', v);
        r.vb = v as boolean;
        break;
      case 'vd':
        if (!(v instanceof Uint8Array)) bad(k, 'a byte string', v);
        r.vd = Buffer.from(v as Uint8Array);
        break;
      default:
        if (!IGNORED.has(k)) ctx.fail(`record ${idx}: unknown SenML label "${k}"`, offset);
    }
  }
  return r;
}

function recordToCbor(r: SenmlRecord): Map<number | string, unknown> {
  const m = new Map<number | string, unknown>();
  if (r.bn !== undefined) m.set(-2, r.bn);
  if (r.n !== undefined) m.set(0, r.n);
  if (r.v !== undefined) m.set(2, typeof r.v === 'bigint' || Number.isInteger(r.v) ? cborInt(r.v) : r.v);
  if (r.vs !== undefined) m.set(3, r.vs);
  if (r.vb !== undefined) m.set(4, r.vb);
  if (r.vd !== undefined) m.set(8, r.vd);
  if (r.vlo !== undefined) m.set('vlo', r.vlo);
  return m;
}

export const senmlCborCodec: Codec = {
  formats: formatCodes('SENML_CBOR'),
  name: 'SenML CBOR',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(SENML_CBOR_FORMAT, path.toString());
    return cborEncode(ctx, recordsFromTree(ctx, model, path, node).map(recordToCbor));
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(SENML_CBOR_FORMAT, path.toString());
    const { value, scan } = cborDecode(ctx, asBuffer(ctx, payload));
    if (!Array.isArray(value)) return ctx.fail(`SenML CBOR must be an array of records, got ${describeCbor(value)}`, 0);
    const records = value.map((m, idx) => recordFromCbor(ctx, m, idx, scan.itemOffsets[idx]));
    return treeFromRecords(ctx, model, path, records);
  },
};

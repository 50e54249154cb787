/**
 * SenML (RFC 8428) as LwM2M uses it, independent of JSON or CBOR: records <-> instance trees.
 * Names resolve as base name + name to absolute paths /O/I/R or /O/I/R/RI. On output the first record
 * carries bn = the request path followed by "/" and every record a relative n (a value at the request path
 * itself gets bn = that path and no n), the forms of RFC 8428 (SenML) as OMA-TS-LightweightM2M_Core, Data Formats: SenML JSON/CBOR uses them.
 */
import { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel, ResourceType } from '../model/types';
import type { CodecContext } from './context';
import { TreeBuilder } from './tree-builder';
import { collectLeaves } from './tree-walk';
import { formatObjlnk, type LooseValue, typedValue } from './value-types';

/** One SenML record with the fields LwM2M uses (time fields are read and ignored). */
export interface SenmlRecord {
  bn?: string;
  n?: string;
  v?: number | bigint;
  vs?: string;
  vb?: boolean;
  vd?: Buffer;
  vlo?: string;
  /** Byte offset of the record in the payload, when known. */
  offset?: number;
}

/** Labels of RFC 8428 that LwM2M payloads may carry without meaning for us (time, unit, version, sum). */
export const IGNORED_LABELS = ['bt', 't', 'ut', 'u', 'bu', 'bver', 's'];

const PATH_NAME = /^\/(0|[1-9]\d{0,4})(\/(0|[1-9]\d{0,4})){2,3}$/;
const BASE_NAME = /^(\/(0|[1-9]\d{0,4})){0,4}\/?$/;

export function recordsFromTree(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, node: LwM2mNode): SenmlRecord[] {
  const leaves = collectLeaves(ctx, model, path, node);
  const prefix = path.isRoot() ? '/' : `${path}/`;
  return leaves.map((leaf, idx) => {
    const r: SenmlRecord = {};
    if (leaf.path.equals(path)) r.bn = path.toString();
    else {
      if (idx === 0) r.bn = prefix;
      r.n = leaf.path.ids.slice(path.ids.length).join('/');
    }
    setValue(r, leaf.type, leaf.value);
    return r;
  });
}

function setValue(r: SenmlRecord, type: ResourceType, value: unknown): void {
  switch (type) {
    case 'string':
    case 'corelnk':
      r.vs = value as string;
      break;
    case 'boolean':
      r.vb = value as boolean;
      break;
    case 'opaque':
      r.vd = value as Buffer;
      break;
    case 'objlnk':
      r.vlo = formatObjlnk(value as { objectId: number; instanceId: number });
      break;
    default:
      r.v = value as number | bigint;
  }
}

function looseOf(ctx: CodecContext, r: SenmlRecord, idx: number, name: string): LooseValue {
  const present: LooseValue[] = [];
  if (r.v !== undefined) present.push({ kind: 'number', value: r.v });
  if (r.vs !== undefined) present.push({ kind: 'string', value: r.vs });
  if (r.vb !== undefined) present.push({ kind: 'boolean', value: r.vb });
  if (r.vd !== undefined) present.push({ kind: 'bytes', value: r.vd });
  if (r.vlo !== undefined) present.push({ kind: 'objlnk', value: r.vlo });
  if (present.length === 0) ctx.fail(`record ${idx} has no value (v, vs, vb, vd or vlo)`, r.offset, name);
  if (present.length > 1) ctx.fail(`record ${idx} has more than one value field`, r.offset, name);
  return present[0];
}

export function treeFromRecords(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, records: SenmlRecord[]): LwM2mNode {
  const b = new TreeBuilder(ctx, path, model);
  let base = '';
  records.forEach((r, idx) => {
    if (r.bn !== undefined) {
      if (!BASE_NAME.test(r.bn)) ctx.fail(`record ${idx}: base name "${r.bn}" is not an LwM2M path prefix`, r.offset);
      base = r.bn;
    }
    const name = base + (r.n ?? '');
    if (name === '') ctx.fail(`record ${idx} has no name (neither bn nor n)`, r.offset);
    if (!PATH_NAME.test(name)) {
      ctx.fail(`record ${idx}: name "${name}" is not a resource path /O/I/R or /O/I/R/RI`, r.offset);
    }
    let p: LwM2mPath;
    try {
      p = LwM2mPath.parse(name);
    } catch {
      return ctx.fail(`record ${idx}: name "${name}" is not a valid LwM2M path`, r.offset);
    }
    const loose = looseOf(ctx, r, idx, name);
    const def = b.definition(p);
    const tv = typedValue(def?.type, loose);
    if ('error' in tv) return ctx.fail(`record ${idx}: ${tv.error}`, r.offset, name);
    if (p.ids.length === 4) b.resourceInstance(p, tv.type, tv.value, r.offset);
    else b.single(p, tv.type, tv.value, r.offset);
  });
  return b.result();
}

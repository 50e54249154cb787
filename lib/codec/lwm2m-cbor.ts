/**
 * LwM2M CBOR (CF 11544, LwM2M 1.2): one CBOR map whose keys are path segments (an unsigned integer, or an
 * array of them for several segments at once) and whose values are deeper maps or resource values.
 * Output: the request path as one key (a plain integer for /O, an array for deeper paths, nothing for /),
 * then one integer key per level below it — the forms of OMA-TS-LightweightM2M_Core 1.2, Data Formats: LwM2M CBOR. Input: any mix of key forms,
 * definite or indefinite lengths, absolute paths or (for Write/Create payloads) paths relative to the request.
 */
import { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectInstanceNode, ObjectModel, ObjectNode, ResourceNode } from '../model/types';
import { cborDecode, cborEncode, cborValue, describeCbor, looseFromCbor } from './cbor';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { TreeBuilder } from './tree-builder';
import { checkedValue, checkNodeAt, checkResource, instancesOf, objectsOf, resourceInfo, resourcesOf } from './tree-walk';
import { typedValue } from './value-types';
import { FORMATS, formatCodes } from './formats';

export const LWM2M_CBOR_FORMAT = FORMATS.LWM2M_CBOR.code;

type CborMap = Map<unknown, unknown>;

function resourceContent(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, r: ResourceNode): unknown {
  const type = checkResource(ctx, model, path, r);
  if (r.kind === 'single') return cborValue(type, checkedValue(ctx, path, type, r.value));
  const m: CborMap = new Map();
  for (const [ri, v] of r.instances) m.set(ri, cborValue(type, checkedValue(ctx, path.append(ri), type, v)));
  return m;
}

function instanceContent(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, i: ObjectInstanceNode): CborMap {
  const m: CborMap = new Map();
  for (const r of resourcesOf(ctx, path, i).values()) m.set(r.id, resourceContent(ctx, model, path.append(r.id), r));
  return m;
}

function objectContent(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, o: ObjectNode): CborMap {
  const m: CborMap = new Map();
  for (const i of instancesOf(ctx, path, o).values()) m.set(i.id, instanceContent(ctx, model, path.append(i.id), i));
  return m;
}

/** One entry found while walking the payload: a value, or a map (kept to create empty containers). */
type Found = { ids: number[]; leaf: true; value: unknown } | { ids: number[]; leaf: false; empty: boolean };

function keyIds(ctx: CodecContext, key: unknown, at: number[]): number[] {
  const one = (k: unknown): number => {
    if (typeof k === 'number' && Number.isInteger(k) && k >= 0 && k <= 65535) return k;
    return ctx.fail(`LwM2M CBOR key ${describeCbor(k)} ${typeof k === 'number' ? k : ''} below /${at.join('/')} is not an id 0..65535`.replace('  ', ' '));
  };
  if (Array.isArray(key)) {
    if (key.length === 0) ctx.fail(`empty array key below /${at.join('/')}`);
    return key.map(one);
  }
  return [one(key)];
}

function walk(ctx: CodecContext, map: CborMap, prefix: number[], out: Found[]): void {
  for (const [k, v] of map) {
    const ids = [...prefix, ...keyIds(ctx, k, prefix)];
    if (ids.length > 4) ctx.fail(`path /${ids.join('/')} is deeper than /O/I/R/RI`);
    if (v instanceof Map) {
      out.push({ ids, leaf: false, empty: v.size === 0 });
      walk(ctx, v as CborMap, ids, out);
    } else out.push({ ids, leaf: true, value: v });
  }
}

function fits(request: LwM2mPath, ids: number[]): boolean {
  const n = Math.min(ids.length, request.ids.length);
  for (let i = 0; i < n; i++) if (ids[i] !== request.ids[i]) return false;
  return true;
}

export const lwm2mCborCodec: Codec = {
  formats: formatCodes('LWM2M_CBOR'),
  name: 'LwM2M CBOR',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(LWM2M_CBOR_FORMAT, path.toString());
    checkNodeAt(ctx, path, node);
    let content: unknown;
    switch (node.kind) {
      case 'root': {
        const m: CborMap = new Map();
        for (const o of objectsOf(ctx, path, node).values()) m.set(o.id, objectContent(ctx, model, path.append(o.id), o));
        return cborEncode(ctx, m);
      }
      case 'object':
        content = objectContent(ctx, model, path, node);
        break;
      case 'instance':
        content = instanceContent(ctx, model, path, node);
        break;
      case 'single':
      case 'multiple':
        content = resourceContent(ctx, model, path, node);
        break;
      case 'resourceInstance': {
        const info = resourceInfo(model, path.ids[0], path.ids[2], node.type);
        if (info.multiple === false) ctx.fail('the resource is single-instance: it has no resource instances');
        content = cborValue(info.type, checkedValue(ctx, path, info.type, node.value));
        break;
      }
    }
    const key = path.ids.length === 1 ? path.ids[0] : [...path.ids];
    return cborEncode(ctx, new Map([[key, content]]));
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(LWM2M_CBOR_FORMAT, path.toString());
    const { value } = cborDecode(ctx, asBuffer(ctx, payload));
    if (!(value instanceof Map)) return ctx.fail(`LwM2M CBOR must be a map, got ${describeCbor(value)}`, 0);
    const found: Found[] = [];
    walk(ctx, value as CborMap, [], found);
    // Absolute paths unless they contradict the request path; then relative to it (Write/Create payloads).
    const absolute = path.isRoot() || found.every((f) => fits(path, f.ids));
    const prefix = absolute ? [] : [...path.ids];
    const b = new TreeBuilder(ctx, path, model);
    for (const f of found) {
      const ids = [...prefix, ...f.ids];
      if (ids.length > 4) ctx.fail(`path /${ids.join('/')} is deeper than /O/I/R/RI`);
      const p = new LwM2mPath(...ids);
      if (!f.leaf) {
        if (ids.length <= 2) b.container(p);
        else if (ids.length === 3 && f.empty) b.multiple(p, b.definition(p)?.type ?? 'opaque');
        else if (ids.length === 4) ctx.fail('a map cannot be the value of a resource instance', undefined, p.toString());
        continue;
      }
      if (ids.length < 3) ctx.fail(`a value at ${p} (values belong to resources)`, undefined, p.toString());
      const loose = looseFromCbor(f.value);
      if (!loose) ctx.fail(`${describeCbor(f.value)} is not a resource value`, undefined, p.toString());
      const tv = typedValue(b.definition(p)?.type, loose);
      if ('error' in tv) ctx.fail(tv.error, undefined, p.toString());
      if (ids.length === 4) b.resourceInstance(p, tv.type, tv.value);
      else b.single(p, tv.type, tv.value);
    }
    return b.result();
  },
};

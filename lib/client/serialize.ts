/**
 * Store <-> JSON, lossless for every LwM2M value kind: opaque as base64, bigint as a decimal string,
 * object links as "OID:IID". Used by persistence, traces and fixtures (factory bootstrap data).
 */
import type { ObjectInstanceNode, ObjectModel, ResourceNode, ResourceType, ResourceValue } from '../model/types';
import { ObjectStore } from './store';
import { ClientConfigError } from './errors';

/** A resource value as the persisted store writes it (type-tagged, so it reads back exactly). */
export type StoredValueJson =
  | { t: 'string' | 'corelnk'; v: string }
  | { t: 'integer' | 'unsigned' | 'time' | 'float'; v: number | string }
  | { t: 'boolean'; v: boolean }
  | { t: 'opaque'; v: string }
  | { t: 'objlnk'; v: string };

export interface JsonResource {
  id: number;
  type: ResourceType;
  value?: StoredValueJson;
  instances?: Record<string, StoredValueJson>;
}

export interface JsonStore {
  objects: Record<string, Record<string, JsonResource[]>>;
}

function valueToJson(type: ResourceType, v: ResourceValue): StoredValueJson {
  if (Buffer.isBuffer(v)) return { t: 'opaque', v: v.toString('base64') };
  if (typeof v === 'bigint') return { t: type === 'unsigned' || type === 'time' ? type : 'integer', v: v.toString() };
  if (typeof v === 'object') return { t: 'objlnk', v: `${v.objectId}:${v.instanceId}` };
  if (typeof v === 'boolean') return { t: 'boolean', v };
  if (typeof v === 'number') {
    const t = type === 'unsigned' || type === 'time' || type === 'float' ? type : 'integer';
    return { t: Number.isInteger(v) ? t : 'float', v };
  }
  return { t: type === 'corelnk' ? 'corelnk' : 'string', v };
}

function valueFromJson(j: StoredValueJson): ResourceValue {
  switch (j.t) {
    case 'opaque':
      return Buffer.from(j.v, 'base64');
    case 'objlnk': {
      const m = /^(\d+):(\d+)$/.exec(j.v);
      if (!m) throw new ClientConfigError('store', `bad object link "${j.v}"`);
      return { objectId: Number(m[1]), instanceId: Number(m[2]) };
    }
    case 'integer':
    case 'unsigned':
    case 'time':
    case 'float':
      return typeof j.v === 'string' ? BigInt(j.v) : j.v;
    case 'boolean':
      return j.v;
    default:
      return String(j.v);
  }
}

export function storeToJson(store: ObjectStore): JsonStore {
  const objects: JsonStore['objects'] = {};
  for (const oid of [...store.objects.keys()].sort((a, b) => a - b)) {
    const insts: Record<string, JsonResource[]> = {};
    for (const inst of store.instances(oid)) {
      insts[String(inst.id)] = [...inst.resources.values()]
        .sort((a, b) => a.id - b.id)
        .map((r) =>
          r.kind === 'single'
            ? { id: r.id, type: r.type, value: valueToJson(r.type, r.value) }
            : {
                id: r.id,
                type: r.type,
                instances: Object.fromEntries([...r.instances].map(([k, v]) => [String(k), valueToJson(r.type, v)])),
              },
        );
    }
    objects[String(oid)] = insts;
  }
  return { objects };
}

export function storeFromJson(json: JsonStore, model: ObjectModel, supportedObjects?: number[]): ObjectStore {
  if (!json || typeof json !== 'object' || !json.objects || typeof json.objects !== 'object') {
    throw new ClientConfigError('store', 'expected { objects: { ... } }');
  }
  const store = new ObjectStore(model, { supportedObjects });
  for (const [o, insts] of Object.entries(json.objects)) {
    const oid = Number(o);
    for (const [i, resources] of Object.entries(insts)) {
      const inst: ObjectInstanceNode = store.ensureInstance(oid, Number(i));
      for (const r of resources) {
        let node: ResourceNode;
        if (r.instances) {
          const m = new Map<number, ResourceValue>();
          for (const [k, v] of Object.entries(r.instances)) m.set(Number(k), valueFromJson(v));
          node = { kind: 'multiple', id: r.id, type: r.type, instances: m };
        } else if (r.value) {
          node = { kind: 'single', id: r.id, type: r.type, value: valueFromJson(r.value) };
        } else {
          throw new ClientConfigError('store', `resource /${oid}/${i}/${r.id} has no value`);
        }
        inst.resources.set(r.id, node);
      }
    }
  }
  return store;
}

/**
 * A simple way to write fixtures: `{ "0": { "0": { "0": "coap://...", "1": true, "2": 3, "3": {"opaque":""} } } }`.
 * Values are typed by the model (strings become opaque for opaque resources, numbers integers, arrays
 * multiple-instance resources; `{ "opaque": "<hex>" }` and `{ "objlnk": "21:0" }` for explicit kinds).
 */
export type SimpleValue = string | number | boolean | { opaque: string } | { objlnk: string } | SimpleValue[];
export type SimpleStore = Record<string, Record<string, Record<string, SimpleValue>>>;

export function storeFromSimple(simple: SimpleStore, model: ObjectModel, supportedObjects?: number[]): ObjectStore {
  const store = new ObjectStore(model, { supportedObjects });
  for (const [o, insts] of Object.entries(simple)) {
    for (const [i, res] of Object.entries(insts)) {
      const inst = store.ensureInstance(Number(o), Number(i));
      for (const [r, v] of Object.entries(res)) {
        const rid = Number(r);
        const type: ResourceType = model.getResource(Number(o), rid)?.type ?? 'string';
        if (Array.isArray(v)) {
          const m = new Map<number, ResourceValue>();
          v.forEach((x, k) => m.set(k, simpleValue(type, x, `/${o}/${i}/${r}`)));
          inst.resources.set(rid, { kind: 'multiple', id: rid, type, instances: m });
        } else {
          inst.resources.set(rid, { kind: 'single', id: rid, type, value: simpleValue(type, v, `/${o}/${i}/${r}`) });
        }
      }
    }
  }
  return store;
}

function simpleValue(type: ResourceType, v: SimpleValue, where: string): ResourceValue {
  if (Array.isArray(v)) throw new ClientConfigError(where, 'nested arrays are not values');
  if (typeof v === 'object') {
    if ('opaque' in v) return Buffer.from(v.opaque, 'hex');
    const m = /^(\d+):(\d+)$/.exec(v.objlnk);
    if (!m) throw new ClientConfigError(where, `bad object link "${v.objlnk}"`);
    return { objectId: Number(m[1]), instanceId: Number(m[2]) };
  }
  if (type === 'opaque') return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(String(v));
  if (type === 'boolean') return v === true || v === 1 || v === 'true';
  if (type === 'integer' || type === 'unsigned' || type === 'time' || type === 'float') {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ClientConfigError(where, `"${String(v)}" is not a number`);
    return n;
  }
  return String(v);
}

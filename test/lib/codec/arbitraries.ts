/**
 * fast-check generators of instance trees typed by the model: random objects of testModel, random instance
 * ids (16-bit ones included), random subsets of their resources, multiple-instance resources with random
 * resource instance ids, and values of every type (64-bit integers, unsigned above 2^31, floats, opaque,
 * objlnk, any Unicode text).
 */
import fc from 'fast-check';
import type {
  LwM2mNode,
  ObjectDefinition,
  ObjectInstanceNode,
  ObjectNode,
  ResourceDefinition,
  ResourceNode,
  ResourceType,
  ResourceValue,
} from '../../../lib/model/types';
import { LwM2mPath } from '../../../lib/model/path';
import { testModel } from './support';

const norm = (b: bigint): number | bigint => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);

export function arbValue(type: ResourceType): fc.Arbitrary<ResourceValue> {
  switch (type) {
    case 'string':
    case 'corelnk':
      return fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));
    case 'integer':
    case 'time':
      return fc.oneof(fc.integer(), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(norm), fc.constantFrom(0, -1, 127, 128, -129, 2 ** 31, -(2 ** 31) - 1));
    case 'unsigned':
      return fc.oneof(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.bigInt(2n ** 31n, 2n ** 64n - 1n).map(norm),
        fc.constantFrom(0, 2 ** 31, 2 ** 32, 2n ** 64n - 1n),
      );
    case 'float':
      return fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
        fc.constantFrom(21.5, 0.1, 1e300, 2 ** 60, -3),
      );
    case 'boolean':
      return fc.boolean();
    case 'opaque':
      return fc.uint8Array({ maxLength: 24 }).map((u) => Buffer.from(u));
    case 'objlnk':
      return fc.record({ objectId: fc.integer({ min: 0, max: 65535 }), instanceId: fc.integer({ min: 0, max: 65535 }) }, { noNullPrototype: true });
    default:
      throw new Error(`no values for ${type}`);
  }
}

const arbId = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 65534 }));

export interface TreeOptions {
  /** Allow empty instances / multiple resources / objects (formats without them cannot round-trip those). */
  allowEmpty: boolean;
}

const definitions = (): ObjectDefinition[] => testModel.list();

function valued(def: ObjectDefinition): ResourceDefinition[] {
  return Object.values(def.resources).filter((r) => r.type !== 'none');
}

export function arbResource(def: ResourceDefinition, opts: TreeOptions): fc.Arbitrary<ResourceNode> {
  if (!def.multiple) return arbValue(def.type).map((value) => ({ kind: 'single', id: def.id, type: def.type, value }));
  return fc
    .uniqueArray(fc.tuple(arbId, arbValue(def.type)), { minLength: opts.allowEmpty ? 0 : 1, maxLength: 3, selector: (t) => t[0] })
    .map((entries) => ({ kind: 'multiple', id: def.id, type: def.type, instances: new Map(entries) }));
}

export function arbInstance(def: ObjectDefinition, iid: number, opts: TreeOptions): fc.Arbitrary<ObjectInstanceNode> {
  return fc
    .subarray(valued(def), { minLength: opts.allowEmpty ? 0 : 1, maxLength: Math.min(6, valued(def).length) })
    .chain((defs) => (defs.length ? fc.tuple(...defs.map((d) => arbResource(d, opts))) : fc.constant([] as ResourceNode[])))
    .map((resources) => ({ kind: 'instance', id: iid, resources: new Map(resources.map((r) => [r.id, r])) }));
}

export function arbObject(def: ObjectDefinition, opts: TreeOptions): fc.Arbitrary<ObjectNode> {
  return fc
    .uniqueArray(arbId, { minLength: opts.allowEmpty ? 0 : 1, maxLength: 3 })
    .chain((ids) => (ids.length ? fc.tuple(...ids.map((i) => arbInstance(def, i, opts))) : fc.constant([] as ObjectInstanceNode[])))
    .map((instances) => ({ kind: 'object', id: def.id, instances: new Map(instances.map((i) => [i.id, i])) }));
}

export interface Addressed {
  path: LwM2mPath;
  node: LwM2mNode;
}

/** A node of a random level with its path: root (when `root`), object, instance, resource, resource instance. */
export function arbAddressed(opts: TreeOptions & { root: boolean }): fc.Arbitrary<Addressed> {
  const defs = definitions();
  const arbDef = fc.constantFrom(...defs);
  const levels: fc.Arbitrary<Addressed>[] = [
    arbDef.chain((d) => arbObject(d, opts)).map((o) => ({ path: new LwM2mPath(o.id), node: o })),
    fc.tuple(arbDef, arbId).chain(([d, iid]) => arbInstance(d, iid, opts).map((i) => ({ path: new LwM2mPath(d.id, iid), node: i }))),
    fc
      .tuple(arbDef, arbId)
      .chain(([d, iid]) => fc.constantFrom(...valued(d)).chain((r) => arbResource(r, opts).map((node) => ({ path: new LwM2mPath(d.id, iid, r.id), node })))),
    arbSingleValue(true).map((a) => a),
  ];
  if (opts.root) {
    levels.push(
      fc
        .subarray(defs, { minLength: opts.allowEmpty ? 0 : 1, maxLength: Math.min(3, defs.length) })
        .chain((ds) => (ds.length ? fc.tuple(...ds.map((d) => arbObject(d, opts))) : fc.constant([] as ObjectNode[])))
        .map((objects) => ({ path: LwM2mPath.root(), node: { kind: 'root', objects: new Map(objects.map((o) => [o.id, o])) } })),
    );
  }
  return fc.oneof(...levels);
}

/**
 * One value: a single-instance resource at /O/I/R, or (when `instances`) a resource instance at /O/I/R/RI of a
 * multiple-instance resource. `onlyType` restricts to one resource type (opaque for CF 42).
 */
export function arbSingleValue(instances: boolean, onlyType?: ResourceType): fc.Arbitrary<Addressed> {
  const choices: [ObjectDefinition, ResourceDefinition][] = definitions().flatMap((d) =>
    valued(d)
      .filter((r) => (onlyType ? r.type === onlyType : true))
      .map((r) => [d, r] as [ObjectDefinition, ResourceDefinition]),
  );
  return fc.constantFrom(...choices).chain(([d, r]) =>
    fc.tuple(arbId, arbId, arbValue(r.type)).map(([iid, ri, value]): Addressed => {
      if (r.multiple) {
        return instances
          ? { path: new LwM2mPath(d.id, iid, r.id, ri), node: { kind: 'resourceInstance', id: ri, type: r.type, value } }
          : { path: new LwM2mPath(d.id, iid, r.id), node: { kind: 'multiple', id: r.id, type: r.type, instances: new Map([[ri, value]]) } };
      }
      return { path: new LwM2mPath(d.id, iid, r.id), node: { kind: 'single', id: r.id, type: r.type, value } };
    }),
  ).filter((a) => instances || a.node.kind === 'single');
}

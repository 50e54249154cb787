/**
 * JSON <-> typed instance trees, using the object model. Profiles, traces and audit records hold the JSON
 * form; codecs and sessions work on the trees of types.ts.
 *
 * JSON shapes, by level (keys are ids as decimal strings):
 *  - root      `{ "<objectId>": <object> }`
 *  - object    `{ "<instanceId>": <instance> }`
 *  - instance  `{ "<resourceId>": <resource> }`
 *  - resource  a value (values.ts) for a single resource; for a multiple-instance resource an object
 *              `{ "<resourceInstanceId>": value }` or an array whose index is the resource instance id
 *              (null entries are skipped: `[null, 5]` is instance 1 only).
 * Unknown objects and resources are errors: add their definitions to an ObjectRegistry to use them.
 */
import { ValueError } from './errors';
import { LwM2mPath } from './path';
import { isSecretResource, MASK } from './secrets';
import type {
  LwM2mNode,
  ObjectInstanceNode,
  ObjectModel,
  ObjectNode,
  ResourceDefinition,
  ResourceNode,
  ResourceValue,
  RootNode,
} from './types';
import { valueFromJson, valueToJson, type JsonValue } from './values';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);
}

/** A key of a JSON map as an id 0..65535; `what` names the level for the message. */
function idOf(key: string, path: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(key) || Number(key) > 65535) {
    throw new ValueError(path, `"${key}" is not a ${what} id (a whole number 0..65535)`);
  }
  return Number(key);
}

function definitionOf(model: ObjectModel, objectId: number, instanceId: number, resourceId: number): ResourceDefinition {
  const obj = model.getObject(objectId);
  const path = `/${objectId}/${instanceId}/${resourceId}`;
  if (!obj) throw new ValueError(path, `object ${objectId} is not in the object model (add its definition to use it)`);
  const def = obj.resources[resourceId];
  if (!def) throw new ValueError(path, `object ${objectId} (${obj.name}) has no resource ${resourceId}`);
  return def;
}

/** The resource `/objectId/instanceId/resourceId` from its JSON form. */
export function resourceFromJson(
  objectId: number,
  instanceId: number,
  resourceId: number,
  json: unknown,
  model: ObjectModel,
): ResourceNode {
  const def = definitionOf(model, objectId, instanceId, resourceId);
  const path = `/${objectId}/${instanceId}/${resourceId}`;
  if (!def.multiple) {
    if (Array.isArray(json) || (isPlainObject(json) && def.type !== 'opaque' && def.type !== 'objlnk')) {
      throw new ValueError(path, `"${def.name}" is a single value, not a list`);
    }
    return { kind: 'single', id: resourceId, type: def.type, value: valueFromJson(def.type, json, path, def) };
  }
  const instances = new Map<number, ResourceValue>();
  if (Array.isArray(json)) {
    json.forEach((v, i) => {
      if (v !== null && v !== undefined) instances.set(i, valueFromJson(def.type, v, `${path}/${i}`, def));
    });
  } else if (isPlainObject(json)) {
    for (const [k, v] of Object.entries(json)) {
      const ri = idOf(k, path, 'resource instance');
      instances.set(ri, valueFromJson(def.type, v, `${path}/${ri}`, def));
    }
  } else {
    throw new ValueError(
      path,
      `"${def.name}" has multiple instances: give {"0": value, "1": value} or a list [value, value], got ${typeof json}`,
    );
  }
  return { kind: 'multiple', id: resourceId, type: def.type, instances: new Map([...instances].sort((a, b) => a[0] - b[0])) };
}

/** The object instance `/objectId/instanceId` from `{ "<resourceId>": value }`. */
export function instanceFromJson(
  objectId: number,
  instanceId: number,
  resources: Record<string, unknown>,
  model: ObjectModel,
): ObjectInstanceNode {
  const path = `/${objectId}/${instanceId}`;
  if (!isPlainObject(resources)) throw new ValueError(path, 'an object instance is a map { "<resource id>": value }');
  const out = new Map<number, ResourceNode>();
  for (const [k, v] of Object.entries(resources)) {
    const rid = idOf(k, path, 'resource');
    out.set(rid, resourceFromJson(objectId, instanceId, rid, v, model));
  }
  return { kind: 'instance', id: instanceId, resources: new Map([...out].sort((a, b) => a[0] - b[0])) };
}

/** The object `/objectId` from `{ "<instanceId>": { "<resourceId>": value } }`. */
export function objectFromJson(objectId: number, instances: Record<string, unknown>, model: ObjectModel): ObjectNode {
  const path = `/${objectId}`;
  if (!isPlainObject(instances)) throw new ValueError(path, 'an object is a map { "<instance id>": { "<resource id>": value } }');
  const out = new Map<number, ObjectInstanceNode>();
  for (const [k, v] of Object.entries(instances)) {
    const iid = idOf(k, path, 'object instance');
    out.set(iid, instanceFromJson(objectId, iid, v as Record<string, unknown>, model));
  }
  return { kind: 'object', id: objectId, instances: new Map([...out].sort((a, b) => a[0] - b[0])) };
}

/** A whole tree from `{ "<objectId>": { "<instanceId>": { "<resourceId>": value } } }`. */
export function rootFromJson(objects: Record<string, unknown>, model: ObjectModel): RootNode {
  if (!isPlainObject(objects)) throw new ValueError('/', 'a tree is a map { "<object id>": { "<instance id>": { … } } }');
  const out = new Map<number, ObjectNode>();
  for (const [k, v] of Object.entries(objects)) {
    const oid = idOf(k, '/', 'object');
    out.set(oid, objectFromJson(oid, v as Record<string, unknown>, model));
  }
  return { kind: 'root', objects: new Map([...out].sort((a, b) => a[0] - b[0])) };
}

/** The node at `path` from its JSON form (dispatch on the path level). */
export function nodeFromJson(path: LwM2mPath | string, json: unknown, model: ObjectModel): LwM2mNode {
  const p = typeof path === 'string' ? LwM2mPath.parse(path) : path;
  const [o, i, r, ri] = p.ids;
  switch (p.level) {
    case 'root':
      return rootFromJson(json as Record<string, unknown>, model);
    case 'object':
      return objectFromJson(o, json as Record<string, unknown>, model);
    case 'instance':
      return instanceFromJson(o, i, json as Record<string, unknown>, model);
    case 'resource':
      return resourceFromJson(o, i, r, json, model);
    case 'resourceInstance': {
      const def = definitionOf(model, o, i, r);
      if (!def.multiple) throw new ValueError(p.toString(), `"${def.name}" is a single resource and has no resource instances`);
      return { kind: 'resourceInstance', id: ri, type: def.type, value: valueFromJson(def.type, json, p.toString(), def) };
    }
  }
}

export interface NodeToJsonOptions {
  /** Replace secret values (Security secret keys, OSCORE master secret, APN secret) with "***". */
  maskSecrets?: boolean;
  /**
   * Where the node sits, for instance/resource nodes whose object id the node itself does not carry.
   * Without it, and with maskSecrets, every opaque value of such a node is masked (never leak a secret).
   */
  path?: LwM2mPath | string;
}

export type JsonTree = JsonValue | { [id: string]: JsonTree };

function masked(objectId: number | undefined, resourceId: number, type: string, opts: NodeToJsonOptions): boolean {
  if (!opts.maskSecrets) return false;
  if (objectId === undefined) return type === 'opaque';
  return isSecretResource(objectId, resourceId);
}

function resourceJson(node: ResourceNode, objectId: number | undefined, opts: NodeToJsonOptions): JsonTree {
  const hide = masked(objectId, node.id, node.type, opts);
  const one = (v: ResourceValue): JsonValue => (hide ? MASK : valueToJson(node.type, v));
  if (node.kind === 'single') return one(node.value);
  const out: Record<string, JsonTree> = {};
  for (const [ri, v] of node.instances) out[ri] = one(v);
  return out;
}

function instanceJson(node: ObjectInstanceNode, objectId: number | undefined, opts: NodeToJsonOptions): JsonTree {
  const out: Record<string, JsonTree> = {};
  for (const [rid, r] of node.resources) out[rid] = resourceJson(r, objectId, opts);
  return out;
}

function objectJson(node: ObjectNode, opts: NodeToJsonOptions): JsonTree {
  const out: Record<string, JsonTree> = {};
  for (const [iid, inst] of node.instances) out[iid] = instanceJson(inst, node.id, opts);
  return out;
}

/**
 * The JSON form of any tree node (the inverse of nodeFromJson), for traces, audit and the editor.
 * With `maskSecrets`, secret values read "***".
 */
export function nodeToJson(node: LwM2mNode, opts: NodeToJsonOptions = {}): JsonTree {
  const path = opts.path === undefined ? undefined : typeof opts.path === 'string' ? LwM2mPath.parse(opts.path) : opts.path;
  const objectId = path?.objectId;
  switch (node.kind) {
    case 'root': {
      const out: Record<string, JsonTree> = {};
      for (const [oid, o] of node.objects) out[oid] = objectJson(o, opts);
      return out;
    }
    case 'object':
      return objectJson(node, opts);
    case 'instance':
      return instanceJson(node, objectId, opts);
    case 'single':
    case 'multiple':
      return resourceJson(node, objectId, opts);
    case 'resourceInstance': {
      const rid = path?.resourceId;
      const hide = opts.maskSecrets && (objectId === undefined || rid === undefined ? node.type === 'opaque' : isSecretResource(objectId, rid));
      return hide ? MASK : valueToJson(node.type, node.value);
    }
  }
}

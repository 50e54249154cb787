/**
 * Encode side: checks that the node handed to a codec is the node of the request path, and walks it down to
 * typed leaf values (the model's type wins over the node's; values are checked against it).
 */
import type { LwM2mPath } from '../model/path';
import type {
  LwM2mNode,
  ObjectInstanceNode,
  ObjectModel,
  ObjectNode,
  ResourceNode,
  ResourceType,
  ResourceValue,
  RootNode,
} from '../model/types';
import type { CodecContext } from './context';
import { checkValue } from './value-types';

/** One value with its absolute path (/O/I/R or /O/I/R/RI). */
export interface LeafValue {
  path: LwM2mPath;
  type: ResourceType;
  value: ResourceValue;
}

const KIND_AT_LEVEL = {
  root: 'root',
  object: 'object',
  instance: 'instance',
  resource: 'single|multiple',
  resourceInstance: 'resourceInstance',
} as const;

/** Fails unless `node` is a node of the level of `path`, with the path's last id. */
export function checkNodeAt(ctx: CodecContext, path: LwM2mPath, node: LwM2mNode): void {
  if (!node || typeof node !== 'object') ctx.fail('no node to encode');
  const expected = KIND_AT_LEVEL[path.level];
  const kind = node.kind === 'single' || node.kind === 'multiple' ? 'single|multiple' : node.kind;
  if (kind !== expected) ctx.fail(`path ${path} needs a ${path.level} node, got a "${String(node.kind)}" node`);
  if (node.kind !== 'root' && node.id !== path.ids[path.ids.length - 1]) {
    ctx.fail(`node id ${node.id} does not match the last id of path ${path}`);
  }
}

/** The resource's type and multiplicity: the model decides when it knows the resource. */
export function resourceInfo(
  model: ObjectModel,
  objectId: number,
  resourceId: number,
  fallback: ResourceType,
): { type: ResourceType; multiple: boolean | undefined } {
  const def = model.getResource(objectId, resourceId);
  return def ? { type: def.type, multiple: def.multiple } : { type: fallback, multiple: undefined };
}

/** A value checked against the type, or a CodecError at `path`. */
export function checkedValue(ctx: CodecContext, path: LwM2mPath, type: ResourceType, value: unknown): ResourceValue {
  const r = checkValue(type, value);
  if ('error' in r) ctx.fail(r.error, undefined, path.toString());
  return r.value;
}

function checkMap<T extends { id: number }>(ctx: CodecContext, path: LwM2mPath, map: unknown, what: string): Map<number, T> {
  if (!(map instanceof Map)) ctx.fail(`${what} must be a Map`, undefined, path.toString());
  for (const [k, v] of map as Map<number, T>) {
    if (!v || typeof v !== 'object' || v.id !== k) {
      ctx.fail(`${what}: entry under key ${String(k)} has id ${String(v?.id)}`, undefined, path.toString());
    }
    if (!Number.isInteger(k) || k < 0 || k > 65535) ctx.fail(`${what}: id ${String(k)} is not in 0..65535`, undefined, path.toString());
  }
  return map as Map<number, T>;
}

export function instancesOf(ctx: CodecContext, path: LwM2mPath, node: ObjectNode): Map<number, ObjectInstanceNode> {
  const m = checkMap<ObjectInstanceNode>(ctx, path, node.instances, 'object instances');
  for (const i of m.values()) if (i.kind !== 'instance') ctx.fail(`expected instance nodes below ${path}`, undefined, path.toString());
  return m;
}

export function objectsOf(ctx: CodecContext, path: LwM2mPath, node: RootNode): Map<number, ObjectNode> {
  const m = checkMap<ObjectNode>(ctx, path, node.objects, 'root objects');
  for (const o of m.values()) if (o.kind !== 'object') ctx.fail('expected object nodes below the root', undefined, path.toString());
  return m;
}

export function resourcesOf(ctx: CodecContext, path: LwM2mPath, node: ObjectInstanceNode): Map<number, ResourceNode> {
  const m = checkMap<ResourceNode>(ctx, path, node.resources, 'resources');
  for (const r of m.values()) {
    if (r.kind !== 'single' && r.kind !== 'multiple') ctx.fail(`expected resource nodes below ${path}`, undefined, path.toString());
  }
  return m;
}

/** Resource type + multiplicity checked against the model; `path` is /O/I/R. */
export function checkResource(
  ctx: CodecContext,
  model: ObjectModel,
  path: LwM2mPath,
  node: ResourceNode,
): ResourceType {
  const info = resourceInfo(model, path.ids[0], path.ids[2], node.type);
  if (info.multiple === true && node.kind === 'single') {
    ctx.fail('the resource is multiple-instance: give its instances', undefined, path.toString());
  }
  if (info.multiple === false && node.kind === 'multiple') {
    ctx.fail('the resource is single-instance: it has no resource instances', undefined, path.toString());
  }
  if (node.kind === 'multiple') {
    if (!(node.instances instanceof Map)) ctx.fail('resource instances must be a Map', undefined, path.toString());
    for (const ri of node.instances.keys()) {
      if (!Number.isInteger(ri) || ri < 0 || ri > 65535) ctx.fail(`resource instance id ${String(ri)} is not in 0..65535`, undefined, path.toString());
    }
  }
  return info.type;
}

/** All leaf values below (and at) `path`, in tree order. */
export function collectLeaves(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, node: LwM2mNode): LeafValue[] {
  checkNodeAt(ctx, path, node);
  const out: LeafValue[] = [];
  const visitResource = (p: LwM2mPath, r: ResourceNode): void => {
    const type = checkResource(ctx, model, p, r);
    if (r.kind === 'single') {
      out.push({ path: p, type, value: checkedValue(ctx, p, type, r.value) });
    } else {
      for (const [ri, v] of r.instances) {
        const rp = p.append(ri);
        out.push({ path: rp, type, value: checkedValue(ctx, rp, type, v) });
      }
    }
  };
  const visitInstance = (p: LwM2mPath, i: ObjectInstanceNode): void => {
    for (const r of resourcesOf(ctx, p, i).values()) visitResource(p.append(r.id), r);
  };
  const visitObject = (p: LwM2mPath, o: ObjectNode): void => {
    for (const i of instancesOf(ctx, p, o).values()) visitInstance(p.append(i.id), i);
  };
  switch (node.kind) {
    case 'root':
      for (const o of objectsOf(ctx, path, node).values()) visitObject(path.append(o.id), o);
      break;
    case 'object':
      visitObject(path, node);
      break;
    case 'instance':
      visitInstance(path, node);
      break;
    case 'single':
    case 'multiple':
      visitResource(path, node);
      break;
    case 'resourceInstance': {
      const info = resourceInfo(model, path.ids[0], path.ids[2], node.type);
      if (info.multiple === false) ctx.fail('the resource is single-instance: it has no resource instances');
      out.push({ path, type: info.type, value: checkedValue(ctx, path, info.type, node.value) });
      break;
    }
  }
  return out;
}

/** Shared by the single-value formats (text 0, opaque 42, CBOR 60): one resource or resource instance. */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel, ResourceType, ResourceValue } from '../model/types';
import type { CodecContext } from './context';
import { checkedValue, checkNodeAt, resourceInfo } from './tree-walk';

function checkLevel(ctx: CodecContext, path: LwM2mPath, name: string): void {
  if (path.level !== 'resource' && path.level !== 'resourceInstance') {
    ctx.fail(`${name} carries one resource value: the path must be /O/I/R or /O/I/R/RI`);
  }
}

/** The one typed value to encode at `path` (a single resource or a resource instance). */
export function singleValueOf(
  ctx: CodecContext,
  model: ObjectModel,
  path: LwM2mPath,
  node: LwM2mNode,
  name: string,
): { type: ResourceType; value: ResourceValue } {
  checkLevel(ctx, path, name);
  checkNodeAt(ctx, path, node);
  if (node.kind === 'multiple') ctx.fail(`${name} cannot carry a multiple-instance resource: address one of its instances`);
  if (node.kind !== 'single' && node.kind !== 'resourceInstance') return ctx.fail('expected a resource value');
  const info = resourceInfo(model, path.ids[0], path.ids[2], node.type);
  if (path.level === 'resource' && info.multiple) {
    ctx.fail(`${name} cannot carry a multiple-instance resource: address one of its instances`);
  }
  if (path.level === 'resourceInstance' && info.multiple === false) ctx.fail('the resource is single-instance: it has no resource instances');
  return { type: info.type, value: checkedValue(ctx, path, info.type, node.value) };
}

/** The model's type for a decode at `path` (undefined when unknown), checking the path level. */
export function targetType(ctx: CodecContext, model: ObjectModel, path: LwM2mPath, name: string): ResourceType | undefined {
  checkLevel(ctx, path, name);
  const def = model.getResource(path.ids[0], path.ids[2]);
  if (def && path.level === 'resource' && def.multiple) {
    ctx.fail(`${name} cannot carry a multiple-instance resource: address one of its instances`);
  }
  if (def && path.level === 'resourceInstance' && !def.multiple) ctx.fail('the resource is single-instance: it has no resource instances');
  if (def?.type === 'none') ctx.fail('an executable resource carries no value');
  return def?.type;
}

/** The decoded node at `path`. */
export function singleNode(path: LwM2mPath, type: ResourceType, value: ResourceValue): LwM2mNode {
  const id = path.ids[path.ids.length - 1];
  return path.level === 'resource' ? { kind: 'single', id, type, value } : { kind: 'resourceInstance', id, type, value };
}

/**
 * Decode side: collects decoded values by absolute path into an instance tree, checking that they lie
 * under the request path, that nothing is given twice and that multiplicity agrees with the model; then
 * hands back the node at the request path's level.
 */
import { LwM2mPath } from '../model/path';
import type {
  LwM2mNode,
  MultipleResource,
  ObjectInstanceNode,
  ObjectModel,
  ObjectNode,
  ResourceType,
  ResourceValue,
} from '../model/types';
import type { CodecContext } from './context';

export class TreeBuilder {
  private readonly objects = new Map<number, ObjectNode>();

  constructor(
    private readonly ctx: CodecContext,
    private readonly request: LwM2mPath,
    private readonly model: ObjectModel,
  ) {}

  /** The model's definition of /O/I/R (or /O/I/R/RI), if any. */
  definition(path: LwM2mPath): { type: ResourceType; multiple: boolean } | undefined {
    return this.model.getResource(path.ids[0], path.ids[2]);
  }

  private checkUnder(path: LwM2mPath, offset?: number): void {
    if (!this.request.contains(path)) this.ctx.fail(`${path} lies outside the request path ${this.request}`, offset, path.toString());
  }

  private checkInside(path: LwM2mPath, offset?: number): void {
    if (!this.request.contains(path) && !path.contains(this.request)) {
      this.ctx.fail(`${path} lies outside the request path ${this.request}`, offset, path.toString());
    }
  }

  /** Ensures the object (and instance, for /O/I) exists; used for empty containers and on the way down. */
  container(path: LwM2mPath, offset?: number): void {
    this.checkInside(path, offset);
    const [oid, iid] = path.ids;
    if (oid === undefined) return;
    let o = this.objects.get(oid);
    if (!o) this.objects.set(oid, (o = { kind: 'object', id: oid, instances: new Map() }));
    if (iid === undefined) return;
    if (!o.instances.has(iid)) o.instances.set(iid, { kind: 'instance', id: iid, resources: new Map() });
  }

  private instance(path: LwM2mPath, offset?: number): ObjectInstanceNode {
    if (path.ids.length < 3) this.ctx.fail(`${path} does not name a resource`, offset, path.toString());
    this.checkInside(path, offset);
    const ip = new LwM2mPath(path.ids[0], path.ids[1]);
    this.container(ip, offset);
    return this.objects.get(path.ids[0])!.instances.get(path.ids[1])!;
  }

  /** A single-instance resource value at /O/I/R. */
  single(path: LwM2mPath, type: ResourceType, value: ResourceValue, offset?: number): void {
    this.checkUnder(path, offset);
    const inst = this.instance(path, offset);
    const rid = path.ids[2];
    if (this.definition(path)?.multiple) {
      this.ctx.fail('the resource is multiple-instance but the payload gives it a single value', offset, path.toString());
    }
    if (inst.resources.has(rid)) this.ctx.fail('the payload gives this resource twice', offset, path.toString());
    inst.resources.set(rid, { kind: 'single', id: rid, type, value });
  }

  /** A (possibly empty) multiple-instance resource at /O/I/R. */
  multiple(path: LwM2mPath, type: ResourceType, offset?: number): MultipleResource {
    const inst = this.instance(path, offset);
    const rid = path.ids[2];
    if (this.definition(path)?.multiple === false) {
      this.ctx.fail('the resource is single-instance but the payload gives it resource instances', offset, path.toString());
    }
    const r = inst.resources.get(rid);
    if (r && r.kind === 'single') this.ctx.fail('the payload gives this resource twice', offset, path.toString());
    if (r) return r as MultipleResource;
    const m: MultipleResource = { kind: 'multiple', id: rid, type, instances: new Map() };
    inst.resources.set(rid, m);
    return m;
  }

  /** One resource instance value at /O/I/R/RI. */
  resourceInstance(path: LwM2mPath, type: ResourceType, value: ResourceValue, offset?: number): void {
    if (path.ids.length !== 4) this.ctx.fail(`${path} does not name a resource instance`, offset, path.toString());
    this.checkUnder(path, offset);
    const m = this.multiple(path.parent(), type, offset);
    const ri = path.ids[3];
    if (m.instances.has(ri)) this.ctx.fail('the payload gives this resource instance twice', offset, path.toString());
    m.instances.set(ri, value);
  }

  /** The node at the request path. */
  result(): LwM2mNode {
    const p = this.request;
    const [oid, iid, rid, ri] = p.ids;
    if (oid === undefined) return { kind: 'root', objects: this.objects };
    const o = this.objects.get(oid) ?? { kind: 'object', id: oid, instances: new Map() };
    if (iid === undefined) return o;
    const i = o.instances.get(iid) ?? { kind: 'instance', id: iid, resources: new Map() };
    if (rid === undefined) return i;
    const r = i.resources.get(rid);
    if (ri === undefined) {
      if (r) return r;
      const def = this.definition(p);
      if (def?.multiple) return { kind: 'multiple', id: rid, type: def.type, instances: new Map() };
      return this.ctx.fail('the payload holds no value for the resource');
    }
    if (r?.kind === 'multiple' && r.instances.has(ri)) {
      return { kind: 'resourceInstance', id: ri, type: r.type, value: r.instances.get(ri)! };
    }
    return this.ctx.fail('the payload holds no value for the resource instance');
  }
}

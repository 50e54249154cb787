/**
 * ObjectStore: the instance tree a simulated device holds (Security 0, Server 1, ACL 2, Device 3, ... any
 * object of the model), with the Bootstrap-Interface semantics of OMA-TS-LightweightM2M_Core, Bootstrap Interface: Bootstrap-Write
 * creates instances and merges resources (Anjay/Zephyr style), Bootstrap-Delete keeps the Bootstrap-Server
 * account, the OSCORE instance it links to and /3/0, and deleting a Security instance "unbootstraps" the
 * Server instance with the same Short Server ID.
 *
 * The store is plain data: bootstrap changes are made on a `clone()` and committed by swapping stores.
 */
import { LwM2mPath } from '../model/path';
import type {
  LwM2mNode,
  ObjectInstanceNode,
  ObjectModel,
  ObjectNode,
  ObjLnk,
  ResourceNode,
  ResourceValue,
  RootNode,
} from '../model/types';
import { BootstrapRefusedError } from './errors';

/** Object ids never shown to LwM2M (DM) servers: Security and OSCORE. */
export const HIDDEN_FROM_SERVERS = new Set([0, 21]);

export function copyValue(v: ResourceValue): ResourceValue {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (typeof v === 'object') return { objectId: (v as ObjLnk).objectId, instanceId: (v as ObjLnk).instanceId };
  return v;
}

export function copyResource(r: ResourceNode): ResourceNode {
  if (r.kind === 'single') return { kind: 'single', id: r.id, type: r.type, value: copyValue(r.value) };
  const instances = new Map<number, ResourceValue>();
  for (const [k, v] of r.instances) instances.set(k, copyValue(v));
  return { kind: 'multiple', id: r.id, type: r.type, instances };
}

export function copyInstance(i: ObjectInstanceNode): ObjectInstanceNode {
  const resources = new Map<number, ResourceNode>();
  for (const [k, r] of i.resources) resources.set(k, copyResource(r));
  return { kind: 'instance', id: i.id, resources };
}

export interface StoreOptions {
  /** Object ids the device implements. Default: every object of the model plus what the store holds. */
  supportedObjects?: number[];
}

export class ObjectStore {
  readonly objects = new Map<number, Map<number, ObjectInstanceNode>>();
  readonly supported: Set<number>;

  constructor(
    readonly model: ObjectModel,
    opts: StoreOptions = {},
  ) {
    this.supported = new Set(opts.supportedObjects ?? [0, 1, 2, 3, 4, 5, 11, 21]);
    this.supported.add(0).add(1).add(3);
  }

  clone(): ObjectStore {
    const s = new ObjectStore(this.model, { supportedObjects: [...this.supported] });
    for (const [oid, insts] of this.objects) {
      const m = new Map<number, ObjectInstanceNode>();
      for (const [iid, inst] of insts) m.set(iid, copyInstance(inst));
      s.objects.set(oid, m);
    }
    return s;
  }

  isSupported(objectId: number): boolean {
    return this.supported.has(objectId) || this.objects.has(objectId);
  }

  instances(objectId: number): ObjectInstanceNode[] {
    const m = this.objects.get(objectId);
    return m ? [...m.values()].sort((a, b) => a.id - b.id) : [];
  }

  instance(objectId: number, instanceId: number): ObjectInstanceNode | undefined {
    return this.objects.get(objectId)?.get(instanceId);
  }

  /** The single value of /O/I/R, or undefined. */
  value(objectId: number, instanceId: number, resourceId: number): ResourceValue | undefined {
    const r = this.instance(objectId, instanceId)?.resources.get(resourceId);
    return r && r.kind === 'single' ? r.value : undefined;
  }

  setValue(objectId: number, instanceId: number, resourceId: number, value: ResourceValue): void {
    const inst = this.ensureInstance(objectId, instanceId);
    const type = this.model.getResource(objectId, resourceId)?.type ?? inferType(value);
    inst.resources.set(resourceId, { kind: 'single', id: resourceId, type, value });
  }

  ensureInstance(objectId: number, instanceId: number): ObjectInstanceNode {
    let m = this.objects.get(objectId);
    if (!m) {
      m = new Map();
      this.objects.set(objectId, m);
    }
    let inst = m.get(instanceId);
    if (!inst) {
      inst = { kind: 'instance', id: instanceId, resources: new Map() };
      m.set(instanceId, inst);
    }
    return inst;
  }

  /** Security instance ids whose resource 1 (Bootstrap-Server) is true. */
  bootstrapAccountIds(): number[] {
    return this.instances(0)
      .filter((i) => isTrue(i.resources.get(1)))
      .map((i) => i.id);
  }

  bootstrapAccount(): ObjectInstanceNode | undefined {
    const id = this.bootstrapAccountIds()[0];
    return id === undefined ? undefined : this.instance(0, id);
  }

  /** Server accounts: non-BS Security instances paired (by SSID) with a Server instance when one exists. */
  serverAccounts(): { ssid: number | undefined; security: ObjectInstanceNode; server: ObjectInstanceNode | undefined }[] {
    return this.instances(0)
      .filter((i) => !isTrue(i.resources.get(1)))
      .map((security) => {
        const ssid = numberOf(security.resources.get(10));
        const server = this.instances(1).find((s) => ssid !== undefined && numberOf(s.resources.get(0)) === ssid);
        return { ssid, security, server };
      });
  }

  /** The node at `path` (a copy), or undefined when nothing is there. */
  read(path: LwM2mPath): LwM2mNode | undefined {
    const [o, i, r, ri] = path.ids;
    if (o === undefined) {
      const objects = new Map<number, ObjectNode>();
      for (const oid of [...this.objects.keys()].sort((a, b) => a - b)) {
        objects.set(oid, this.read(new LwM2mPath(oid)) as ObjectNode);
      }
      return { kind: 'root', objects } satisfies RootNode;
    }
    const insts = this.objects.get(o);
    if (i === undefined) {
      if (!insts && !this.isSupported(o)) return undefined;
      const instances = new Map<number, ObjectInstanceNode>();
      for (const inst of this.instances(o)) instances.set(inst.id, copyInstance(inst));
      return { kind: 'object', id: o, instances };
    }
    const inst = insts?.get(i);
    if (!inst) return undefined;
    if (r === undefined) return copyInstance(inst);
    const res = inst.resources.get(r);
    if (!res) return undefined;
    if (ri === undefined) return copyResource(res);
    if (res.kind !== 'multiple') return undefined;
    const v = res.instances.get(ri);
    return v === undefined ? undefined : { kind: 'resourceInstance', id: ri, type: res.type, value: copyValue(v) };
  }

  /**
   * Bootstrap-Write of `node` at `path` (/O, /O/I or /O/I/R). Creates missing instances, merges resources,
   * ignores resources the model does not define for a known object. Throws BootstrapRefusedError (4.00)
   * when the result would hold a second Bootstrap-Server account, or the node does not fit the path.
   */
  bootstrapWrite(path: LwM2mPath, node: LwM2mNode): void {
    const [o, i, r] = path.ids;
    if (o === undefined || path.level === 'resourceInstance') {
      throw new BootstrapRefusedError('4.00', `Bootstrap-Write cannot target ${path.toString()}`);
    }
    if (!this.isSupported(o)) throw new BootstrapRefusedError('4.04', `object ${o} is not supported`);
    const before = this.clone();
    if (i === undefined) {
      if (node.kind === 'object') {
        for (const inst of node.instances.values()) this.mergeInstance(o, inst);
      } else if (node.kind === 'instance') {
        this.mergeInstance(o, node);
      } else if (node.kind === 'root') {
        const obj = node.objects.get(o);
        if (!obj || node.objects.size !== 1) throw new BootstrapRefusedError('4.00', 'payload names other objects');
        for (const inst of obj.instances.values()) this.mergeInstance(o, inst);
      } else {
        throw new BootstrapRefusedError('4.00', `payload does not fit ${path.toString()}`);
      }
    } else if (r === undefined) {
      let inst: ObjectInstanceNode | undefined;
      if (node.kind === 'instance') inst = node;
      else if (node.kind === 'object' && node.instances.size <= 1) inst = node.instances.get(i);
      if (!inst) throw new BootstrapRefusedError('4.00', `payload does not fit ${path.toString()}`);
      this.mergeInstance(o, { ...inst, id: i });
    } else {
      if (node.kind !== 'single' && node.kind !== 'multiple') {
        throw new BootstrapRefusedError('4.00', `payload does not fit ${path.toString()}`);
      }
      this.mergeInstance(o, { kind: 'instance', id: i, resources: new Map([[r, { ...node, id: r }]]) });
    }
    if (this.bootstrapAccountIds().length > 1) {
      this.restore(before);
      throw new BootstrapRefusedError('4.00', 'a second Bootstrap-Server account is not allowed');
    }
  }

  private mergeInstance(objectId: number, src: ObjectInstanceNode): void {
    const known = this.model.getObject(objectId) !== undefined;
    const inst = this.ensureInstance(objectId, src.id);
    for (const res of src.resources.values()) {
      if (known && this.model.getResource(objectId, res.id) === undefined) continue; // unsupported optional resource
      inst.resources.set(res.id, copyResource(res));
    }
  }

  private restore(from: ObjectStore): void {
    this.objects.clear();
    for (const [k, v] of from.objects) this.objects.set(k, v);
  }

  /** Instance ids Bootstrap-Delete must keep in object `objectId`. */
  protectedInstances(objectId: number): Set<number> {
    const keep = new Set<number>();
    if (objectId === 0) for (const id of this.bootstrapAccountIds()) keep.add(id);
    if (objectId === 3) keep.add(0);
    if (objectId === 21) {
      const link = this.bootstrapAccount()?.resources.get(17);
      if (link && link.kind === 'single' && typeof link.value === 'object' && !Buffer.isBuffer(link.value)) {
        keep.add((link.value as ObjLnk).instanceId);
      }
    }
    return keep;
  }

  /** Bootstrap-Delete of `/`, `/O` or `/O/I`. */
  bootstrapDelete(path: LwM2mPath): void {
    const [o, i] = path.ids;
    if (path.level === 'resource' || path.level === 'resourceInstance') {
      throw new BootstrapRefusedError('4.00', `Bootstrap-Delete cannot target ${path.toString()}`);
    }
    if (o === undefined) {
      for (const oid of [...this.objects.keys()]) this.deleteObject(oid);
      return;
    }
    if (i === undefined) {
      if (!this.isSupported(o)) throw new BootstrapRefusedError('4.04', `object ${o} is not supported`);
      this.deleteObject(o);
      return;
    }
    if (this.protectedInstances(o).has(i)) {
      throw new BootstrapRefusedError('4.00', `${path.toString()} cannot be deleted`);
    }
    this.deleteInstance(o, i);
  }

  private deleteObject(objectId: number): void {
    const keep = this.protectedInstances(objectId);
    for (const inst of this.instances(objectId)) if (!keep.has(inst.id)) this.deleteInstance(objectId, inst.id);
  }

  private deleteInstance(objectId: number, instanceId: number): void {
    const m = this.objects.get(objectId);
    const inst = m?.get(instanceId);
    if (!m || !inst) return; // idempotent, like Anjay
    m.delete(instanceId);
    if (objectId === 0) {
      // "Unbootstrapping": the Server instance with the same SSID goes with its Security instance.
      const ssid = numberOf(inst.resources.get(10));
      if (ssid !== undefined) {
        for (const s of this.instances(1)) if (numberOf(s.resources.get(0)) === ssid) this.objects.get(1)?.delete(s.id);
      }
    }
  }
}

export function isTrue(r: ResourceNode | undefined): boolean {
  return !!r && r.kind === 'single' && (r.value === true || r.value === 1);
}

export function numberOf(r: ResourceNode | undefined): number | undefined {
  if (!r || r.kind !== 'single') return undefined;
  const v = r.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

export function stringOf(r: ResourceNode | undefined): string | undefined {
  if (!r || r.kind !== 'single') return undefined;
  const v = r.value;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

export function bufferOf(r: ResourceNode | undefined): Buffer | undefined {
  if (!r || r.kind !== 'single') return undefined;
  const v = r.value;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return undefined;
}

function inferType(v: ResourceValue): ResourceNode['type'] {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return 'integer';
  if (Buffer.isBuffer(v)) return 'opaque';
  return 'objlnk';
}

/**
 * From a resolved profile (and what Bootstrap-Discover learned) to the ordered Bootstrap requests:
 *
 *  1. Bootstrap-Delete, in the profile's order (default /0, /1, plus /2 with ACLs); a delete of the
 *     Bootstrap-Server account's own instance is left out, since the client may not remove it;
 *  2. Bootstrap-Write of each server account's Security instance (/0/i), then the Bootstrap-Server account
 *     rewrite if any (into the instance that holds it), then the Server instances (/1/i), the Access
 *     Control instances (/2/i) and the other objects by ascending object id. Writes are whole instances
 *     with every mandatory resource; the single Device instance /3/0 is written resource by resource;
 *  3. Bootstrap-Discover of "/" when the profile asks for it;
 *  4. Bootstrap-Read of the profile's paths, only for LwM2M 1.1+ clients.
 * Bootstrap-Finish is not part of the plan: the caller sends it.
 *
 * Instance ids come from ids.ts: with `ctx.discovered` (the profile's autoId, on by default, asks the
 * caller to Bootstrap-Discover first; see wantsDiscovery) the Bootstrap-Server account's instance and the
 * instances the device keeps are avoided; without it (autoId false, or a client that refused Discover)
 * the account is assumed at bootstrapAccountInstanceId (default 0).
 *
 * buildBootstrapPack gives the same configuration as one tree for a Bootstrap-Pack (LwM2M 1.2,
 * GET /bspack): what a bootstrap would write, but no deletes, discovers or reads, since the client itself
 * replaces the instances of every object in the pack, keeping its Bootstrap-Server account. Its instance
 * ids avoid the Bootstrap-Server account's instance (bootstrapAccountInstanceId, default 0).
 */
import {
  BootstrapDeleteRequest,
  BootstrapDiscoverRequest,
  BootstrapReadRequest,
  BootstrapWriteRequest,
  type BootstrapDownlinkRequest,
} from '../operations/requests';
import { writeFormatForPct } from '../codec/formats';
import { ValueError } from '../model/errors';
import { LwM2mPath } from '../model/path';
import { defaultModel } from '../model/registry';
import { instanceFromJson } from '../model/tree';
import type { LwM2mNode, ObjectInstanceNode, ObjectModel, ObjectNode, RootNode } from '../model/types';
import { ProfileError } from './errors';
import { chooseInstanceIds, type DiscoverInfo, type InstanceIds } from './ids';
import {
  aclInstance,
  bootstrapSecurityInstance,
  contentFormatSetting,
  defaultDeletes,
  serverInstance,
  serverSecurityInstance,
} from './instances';
import type { BootstrapProfile, ResourcesJson } from './types';
import { validatedProfile, type ValidatedProfile } from './validated';

export type { DiscoverInfo, InstanceIds } from './ids';

export interface PlanContext {
  /** The write (and read) format, e.g. contentFormatFor(profile, session.preferredContentFormat). */
  contentFormat: number;
  /** Bootstrap-Discover results, when a Discover was made (autoId). */
  discovered?: DiscoverInfo;
  /** The client's LwM2M version when known; else the discovered one. Reads need 1.1+. */
  lwm2mVersion?: string;
  model?: ObjectModel;
}

/** One write of the plan: where, and the tree to write. */
export interface PlannedWrite {
  path: LwM2mPath;
  node: LwM2mNode;
}

/**
 * The write format: the profile's fixed format, else the client's preferred one (pct) when it is a
 * hierarchical format, else TLV (the format every 1.0 client reads, and OMA's advice when unknown).
 */
export function contentFormatFor(profile: BootstrapProfile, preferredFromClient?: number): number {
  const setting = contentFormatSetting(profile.contentFormat);
  if (typeof setting === 'number') return setting;
  // pct=11543 (LwM2M JSON) is served in SenML JSON (the table's pctServedAs); a 4.15 still falls back (runner.ts).
  return writeFormatForPct(preferredFromClient);
}

/** True when the profile wants a Bootstrap-Discover before planning (autoId, the default). */
export function wantsDiscovery(profile: BootstrapProfile): boolean {
  return profile.autoId !== false;
}

/** "1.1" >= "1.1", "1.2" >= "1.1", "1.0" < "1.1"; unknown versions are not >= anything. */
export function versionAtLeast(version: string | undefined, min: string): boolean {
  if (!version || !/^\d+(\.\d+)*$/.test(version)) return false;
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}


function instance(objectId: number, instanceId: number, resources: ResourcesJson, model: ObjectModel, at: string, name?: string) {
  try {
    return instanceFromJson(objectId, instanceId, resources, model);
  } catch (e) {
    if (e instanceof ValueError) throw new ProfileError([{ pointer: at, message: e.message }], name);
    throw e;
  }
}

/** The deletes the plan sends: the profile's (or the default), without the Bootstrap-Server account. */
export function plannedDeletes(profile: BootstrapProfile): string[] {
  return profile.delete ?? defaultDeletes((profile.acl ?? []).length > 0);
}

/** Every write of a profile, in plan order, at the ids chosen in `ids`. */
export function profileWrites(profile: BootstrapProfile, ids: InstanceIds, model: ObjectModel): PlannedWrite[] {
  const out: PlannedWrite[] = [];
  const w = (path: LwM2mPath, node: LwM2mNode) => out.push({ path, node });
  const servers = profile.servers ?? [];
  servers.forEach((s, i) => {
    const id = ids.security[i];
    w(new LwM2mPath(0, id), instance(0, id, serverSecurityInstance(s).resources, model, `/servers/${i}`, profile.name));
  });
  if (profile.bootstrapServer) {
    const id = ids.bootstrapAccount;
    w(new LwM2mPath(0, id), instance(0, id, bootstrapSecurityInstance(profile.bootstrapServer).resources, model, '/bootstrapServer', profile.name));
  }
  servers.forEach((s, i) => {
    const id = ids.server[i];
    w(new LwM2mPath(1, id), instance(1, id, serverInstance(s).resources, model, `/servers/${i}`, profile.name));
  });
  (profile.acl ?? []).forEach((a, i) => {
    const id = ids.acl[i];
    w(new LwM2mPath(2, id), instance(2, id, aclInstance(a).resources, model, `/acl/${i}`, profile.name));
  });
  const objectIds = Object.keys(profile.objects ?? {}).map(Number).sort((a, b) => a - b);
  for (const oid of objectIds) {
    const def = model.getObject(oid);
    const list = profile.objects![String(oid)];
    list.forEach((entry, j) => {
      const iid = ids.objects[String(oid)][j];
      const node = instance(oid, iid, entry.resources, model, `/objects/${oid}/${j}`, profile.name);
      if (def && !def.multiple && def.mandatory) {
        // The single mandatory instance (Device /3/0) is never replaced whole: write resource by resource.
        for (const [rid, r] of node.resources) w(new LwM2mPath(oid, iid, rid), r);
      } else {
        w(new LwM2mPath(oid, iid), node);
      }
    });
  }
  return out;
}

/**
 * Plans already made, per validated profile: a ValidatedProfile is frozen (validated.ts), so the requests
 * for one set of instance ids, format and model never change, and every device the profile serves with the
 * same layout gets the same requests (read-only: the session only reads them; its 4.15 and keyless retries
 * build new ones). Keyed by what the plan depends on besides the profile; a few keys per profile at most.
 */
const plans = new WeakMap<object, Map<string, readonly BootstrapDownlinkRequest[]>>();
/** Profiles planned once (the second plan of a profile is remembered). */
const plannedOnce = new WeakSet<object>();
/** Different device layouts (instance ids from Discover) remembered per profile, each under two keys (what the
 * device answered to Discover, and the ids chosen from it); more are planned afresh. */
const PLANS_PER_PROFILE = 16;
/** Object models -> a number for the cache key (a profile may be checked against another model). */
const modelIds = new WeakMap<ObjectModel, number>();
let nextModelId = 0;
/** Nodes of a remembered plan: never changed after planning, so their encoded payloads may be kept (isPlannedNode). */
const plannedNodes = new WeakSet<object>();

/**
 * True for a write's tree that belongs to a remembered plan (planBootstrap): it does not change, so the
 * bytes it encodes to in one format can be reused for every device it is written to.
 */
export function isPlannedNode(node: LwM2mNode): boolean {
  return plannedNodes.has(node);
}

/**
 * The ordered Bootstrap requests for `profile` on one device (Bootstrap-Finish not included). The result is
 * shared by every device with the same layout (see plans above): read it, do not change it.
 */
export function planBootstrap(profileIn: ValidatedProfile, ctx: PlanContext): readonly BootstrapDownlinkRequest[] {
  const model = ctx.model ?? defaultModel;
  // Checked already (the type says so); a plain object from JavaScript, or one checked against another
  // model, is checked here, once.
  const profile = validatedProfile(profileIn, { model });
  let mid = modelIds.get(model);
  if (mid === undefined) modelIds.set(model, (mid = nextModelId++));
  let known = plans.get(profile);
  // A device that lists the same objects and instances as one before it gets that device's plan without its
  // instance ids being chosen again (the same Discover answer gives the same ids). A Discover answer that
  // cannot change (deep-frozen: the session's reading of Discover, shared by the devices that sent the same
  // payload) is found by identity, without its JSON text.
  const shared = known && ctx.discovered ? sharedDiscover(ctx.discovered) : undefined;
  if (shared) {
    const seen = askedPlan(shared, profile, mid, ctx);
    if (seen) return seen;
  }
  const asked = known ? `d|${mid}|${ctx.contentFormat}|${ctx.lwm2mVersion ?? ''}|${ctx.discovered ? discoverText(ctx.discovered) : ''}` : undefined;
  const seen = asked !== undefined ? known!.get(asked) : undefined;
  if (seen) {
    if (shared) rememberAsked(shared, profile, mid, ctx, seen);
    return seen;
  }
  const deletes = plannedDeletes(profile);
  const ids = chooseInstanceIds(profile, deletes, ctx.discovered, model);
  const version = ctx.lwm2mVersion ?? ctx.discovered?.lwm2mVersion;
  const reads = (profile.read ?? []).length > 0 && versionAtLeast(version, '1.1');
  const key = `i|${mid}|${ctx.contentFormat}|${reads ? 1 : 0}|${JSON.stringify(ids)}`;
  let plan = known?.get(key);
  if (!plan) plan = Object.freeze(makePlan(profile, deletes, ids, reads, ctx.contentFormat, model));
  // Remembered from a profile's second plan on: a profile filled for one device only (its own values) is
  // planned once, and keeping its plan would only cost.
  if (!known) {
    if (!plannedOnce.has(profile)) {
      plannedOnce.add(profile);
      return plan;
    }
    plans.set(profile, (known = new Map()));
  }
  if (known.size < PLANS_PER_PROFILE * 2) {
    if (!known.has(key)) {
      known.set(key, plan);
      for (const r of plan) if (r.type === 'BootstrapWriteRequest') plannedNodes.add(r.node);
    }
    if (asked !== undefined) known.set(asked, plan);
    if (shared) rememberAsked(shared, profile, mid, ctx, plan);
  }
  return plan;
}

/** A Discover answer known to be deep-frozen, with its JSON text (it cannot change, so neither can the text). */
interface SharedDiscover {
  readonly text: string;
  /** Plans already made for it, per profile: (model, format, version) -> plan; a few per profile at most. */
  readonly plans: WeakMap<object, AskedPlan[]>;
}
interface AskedPlan {
  readonly mid: number;
  readonly cf: number;
  readonly version: string | undefined;
  readonly plan: readonly BootstrapDownlinkRequest[];
}
const sharedDiscovers = new WeakMap<DiscoverInfo, SharedDiscover | null>();

/** The record of `d` when it is deep-frozen (checked once per object), else undefined. */
function sharedDiscover(d: DiscoverInfo): SharedDiscover | undefined {
  let s = sharedDiscovers.get(d);
  if (s === undefined) {
    s = deepFrozen(d) ? { text: JSON.stringify(d), plans: new WeakMap() } : null;
    sharedDiscovers.set(d, s);
  }
  return s ?? undefined;
}

function discoverText(d: DiscoverInfo): string {
  return sharedDiscover(d)?.text ?? JSON.stringify(d);
}

function askedPlan(s: SharedDiscover, profile: object, mid: number, ctx: PlanContext): readonly BootstrapDownlinkRequest[] | undefined {
  const list = s.plans.get(profile);
  if (list) for (const e of list) if (e.mid === mid && e.cf === ctx.contentFormat && e.version === ctx.lwm2mVersion) return e.plan;
  return undefined;
}

function rememberAsked(s: SharedDiscover, profile: object, mid: number, ctx: PlanContext, plan: readonly BootstrapDownlinkRequest[]): void {
  let list = s.plans.get(profile);
  if (!list) s.plans.set(profile, (list = []));
  if (list.length < PLANS_PER_PROFILE) list.push({ mid, cf: ctx.contentFormat, version: ctx.lwm2mVersion, plan });
}

function deepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (!Object.isFrozen(v)) return false;
  for (const x of Object.values(v)) if (!deepFrozen(x)) return false;
  return true;
}

function makePlan(profile: BootstrapProfile, deletes: string[], ids: InstanceIds, reads: boolean, contentFormat: number, model: ObjectModel): BootstrapDownlinkRequest[] {
  const bsAccount = new LwM2mPath(0, ids.bootstrapAccount);
  const plan: BootstrapDownlinkRequest[] = [];
  for (const d of deletes) {
    const p = LwM2mPath.parse(d);
    if (p.equals(bsAccount)) continue;
    plan.push(new BootstrapDeleteRequest(p));
  }
  for (const { path, node } of profileWrites(profile, ids, model)) {
    plan.push(new BootstrapWriteRequest(path, node, contentFormat));
  }
  if (profile.discover === true) plan.push(new BootstrapDiscoverRequest('/'));
  if (reads) {
    for (const r of profile.read ?? []) plan.push(new BootstrapReadRequest(r, contentFormat));
  }
  return plan;
}


/** The whole configuration of `profile` as one tree, for a Bootstrap-Pack (no Bootstrap-Server account unless rewritten). */
export function buildBootstrapPack(profileIn: ValidatedProfile, model: ObjectModel = defaultModel): RootNode {
  const profile = validatedProfile(profileIn, { model });
  const ids = chooseInstanceIds(profile, [], undefined, model);
  const root: RootNode = { kind: 'root', objects: new Map() };
  for (const { path, node } of profileWrites(profile, ids, model)) {
    const [oid, iid] = path.ids;
    let obj: ObjectNode | undefined = root.objects.get(oid);
    if (!obj) root.objects.set(oid, (obj = { kind: 'object', id: oid, instances: new Map() }));
    let inst: ObjectInstanceNode | undefined = obj.instances.get(iid);
    if (!inst) obj.instances.set(iid, (inst = { kind: 'instance', id: iid, resources: new Map() }));
    if (node.kind === 'instance') for (const [rid, res] of node.resources) inst.resources.set(rid, res);
    else if (node.kind === 'single' || node.kind === 'multiple') inst.resources.set(node.id, node);
  }
  root.objects = new Map([...root.objects].sort((a, b) => a[0] - b[0]));
  return root;
}

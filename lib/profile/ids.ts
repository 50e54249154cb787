/**
 * Choosing instance ids for what a profile writes. Rules:
 *  - the Bootstrap-Server account's Security instance is never used for a server account;
 *  - a pinned id is used as given (a pinned Security id equal to the Bootstrap-Server account's is an error);
 *  - with Discover results, a server account whose Short Server ID the device already has (and keeps after
 *    the deletes) reuses those instances, so the write replaces it instead of adding a second account with
 *    the same SSID; otherwise the lowest id that is neither kept on the device nor used by this profile.
 * Without Discover results nothing is known of the device beyond the assumed Bootstrap-Server account.
 */
import { LwM2mPath } from '../model/path';
import type { ObjectModel } from '../model/types';
import { pointer, ProfileError } from './errors';
import type { BootstrapProfile } from './types';
import type { DiscoverInfo } from '../codec/discover';

/** What a Bootstrap-Discover learned about the device: the codec parses it, the plan uses it. */
export type { DiscoverInfo };

export interface InstanceIds {
  /** The Bootstrap-Server account's Security instance id (discovered, pinned, or assumed 0). */
  bootstrapAccount: number;
  /** Per entry of profile.servers: Security and Server instance ids. */
  security: number[];
  server: number[];
  /** Per entry of profile.acl. */
  acl: number[];
  /** Per object id of profile.objects, per entry. */
  objects: Record<string, number[]>;
}

/** Instances of `objectId` the device keeps after the deletes (only known with Discover results). */
function kept(objectId: number, discovered: DiscoverInfo | undefined, deletes: LwM2mPath[], bsId: number): Set<number> {
  const out = new Set<number>();
  if (!discovered) return out;
  const listed = new Set<number>(discovered.objects.find((o) => o.id === objectId)?.instances ?? []);
  if (objectId === 0) discovered.securityInstances.forEach((s) => listed.add(s.id));
  if (objectId === 1) discovered.serverInstances.forEach((s) => listed.add(s.id));
  for (const iid of listed) {
    const protectedInstance = (objectId === 0 && iid === bsId) || (objectId === 3 && iid === 0);
    const deleted = deletes.some((d) => d.contains(new LwM2mPath(objectId, iid)));
    if (protectedInstance || !deleted) out.add(iid);
  }
  return out;
}

function lowestFree(taken: Set<number>): number {
  let i = 0;
  while (taken.has(i)) i++;
  taken.add(i);
  return i;
}

/** Assigns ids to pinned entries first, then to the rest (reusing a kept instance where `reuse` finds one). */
function allocate(
  pins: (number | undefined)[],
  taken: Set<number>,
  reuse: (index: number) => number | undefined = () => undefined,
): number[] {
  const out: (number | undefined)[] = pins.map((p) => p);
  for (const p of pins) if (p !== undefined) taken.add(p);
  const claimed = new Set<number>();
  out.forEach((p, i) => {
    if (p !== undefined) return;
    const r = reuse(i);
    if (r !== undefined && !claimed.has(r) && !pins.includes(r)) {
      out[i] = r;
      claimed.add(r);
      taken.add(r);
    }
  });
  return out.map((p) => (p === undefined ? lowestFree(taken) : p));
}

const pin = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export function chooseInstanceIds(
  profile: BootstrapProfile,
  deletes: string[],
  discovered: DiscoverInfo | undefined,
  model: ObjectModel,
): InstanceIds {
  const bsId = discovered?.bootstrapAccountInstanceId ?? profile.bootstrapAccountInstanceId ?? 0;
  const paths = deletes.map((d) => LwM2mPath.parse(d));
  const servers = profile.servers ?? [];

  servers.forEach((s, i) => {
    if (s.securityInstanceId === bsId) {
      throw new ProfileError(
        [{ pointer: pointer('/servers', i, 'securityInstanceId'), message: `Security instance ${bsId} holds this device's Bootstrap-Server account; pin another id or leave it out` }],
        profile.name,
      );
    }
  });

  const keptSecurity = kept(0, discovered, paths, bsId);
  const securityTaken = new Set([...keptSecurity, bsId]);
  const security = allocate(
    servers.map((s) => pin(s.securityInstanceId)),
    securityTaken,
    (i) => discovered?.securityInstances.find((x) => x.ssid === servers[i].shortServerId && keptSecurity.has(x.id) && x.id !== bsId)?.id,
  );
  const keptServer = kept(1, discovered, paths, bsId);
  const server = allocate(
    servers.map((s) => pin(s.serverInstanceId)),
    new Set(keptServer),
    (i) => discovered?.serverInstances.find((x) => x.ssid === servers[i].shortServerId && keptServer.has(x.id))?.id,
  );
  const acl = allocate(
    (profile.acl ?? []).map((a) => pin(a.instanceId)),
    kept(2, discovered, paths, bsId),
  );
  const objects: Record<string, number[]> = {};
  for (const [key, list] of Object.entries(profile.objects ?? {})) {
    if (model.getObject(Number(key))?.multiple === false) {
      objects[key] = list.map(() => 0); // a single-instance object lives at /O/0
      continue;
    }
    objects[key] = allocate(
      list.map((x) => pin(x.instanceId)),
      kept(Number(key), discovered, paths, bsId),
    );
  }
  return { bootstrapAccount: bsId, security, server, acl, objects };
}

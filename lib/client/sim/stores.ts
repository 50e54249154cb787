/**
 * The device stores of one client-sim node: a directory of `<endpoint>.json` files (written by lib/client's
 * persistence) and `settings.sha256`, the fingerprint of the settings that shaped them. When the server
 * URI, endpoints, keys or version change, the old stores would point the devices at the old configuration:
 * they are removed and the devices bootstrap again.
 */
import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { FleetDevice } from '../fleet';
import type { SimSettings } from './settings';

const FINGERPRINT = 'settings.sha256';

/** A digest of what shapes the stores (the key enters only hashed). */
export function storeFingerprint(s: SimSettings, pskKey: string | undefined, devices: FleetDevice[] | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify([s.mode, s.endpoint, s.count, s.first, s.bsUri, s.pskIdentity, pskKey ?? '', s.version, s.formats, devices ?? null, ...(s.factoryFile ? [s.factoryFile] : [])]))
    .digest('hex');
}

/** Keeps the stores when the fingerprint matches; otherwise removes them and records the new one. */
export async function checkStoreFingerprint(dir: string, digest: string): Promise<void> {
  const file = path.join(dir, FINGERPRINT);
  let old: string | undefined;
  try {
    old = (await fsp.readFile(file, 'utf8')).trim();
  } catch {
    old = undefined;
  }
  if (old === digest) return;
  if (old !== undefined) await removeStores(dir);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(file, digest + '\n', { mode: 0o600 });
}

/** Removes the device stores in `dir` (files the client wrote), nothing else. */
export async function removeStores(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const f of names) {
    if (!f.endsWith('.json')) continue;
    const file = path.join(dir, f);
    const head = await fsp
      .open(file, 'r')
      .then(async (h) => {
        try {
          const b = Buffer.alloc(64);
          const { bytesRead } = await h.read(b, 0, 64, 0);
          return b.subarray(0, bytesRead).toString('utf8');
        } finally {
          await h.close();
        }
      })
      .catch(() => '');
    if (head.startsWith('{"format":"lwm2m-client-store"')) await fsp.rm(file, { force: true });
  }
}

/** Removes the stores, the fingerprint and the directory when that leaves it empty (the node was deleted). */
export async function removeAll(dir: string): Promise<void> {
  await removeStores(dir);
  await fsp.rm(path.join(dir, FINGERPRINT), { force: true });
  await fsp.rmdir(dir).catch(() => undefined); // only when empty: the directory may be the operator's
}

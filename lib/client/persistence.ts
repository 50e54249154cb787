/**
 * Persistence of the provisioned store, written atomically: write a temp file beside the target, fsync it,
 * rename it over the target, fsync the directory. A kill -9 at any point leaves either the old file or the
 * new one, never a half-written store. The file carries a SHA-256 of its content so that a damaged file
 * (disk error, hand edit) is detected and the device bootstraps instead of trusting it.
 */
import { createHash, randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { ObjectModel } from '../model/types';
import { StoreFileError } from './errors';
import { storeFromJson, storeToJson, type JsonStore } from './serialize';
import type { ObjectStore } from './store';

const FORMAT = 'lwm2m-client-store';

interface StoreFile {
  format: typeof FORMAT;
  version: 1;
  endpoint: string;
  savedAt: string;
  sha256: string;
  store: JsonStore;
}

function digest(store: JsonStore): string {
  return createHash('sha256').update(JSON.stringify(store)).digest('hex');
}

/** Writes `store` to `file` atomically (temp + fsync + rename + fsync dir). */
export async function saveStore(file: string, endpoint: string, store: ObjectStore): Promise<void> {
  const json = storeToJson(store);
  const body: StoreFile = {
    format: FORMAT,
    version: 1,
    endpoint,
    savedAt: new Date().toISOString(),
    sha256: digest(json),
    store: json,
  };
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(body));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await removeStaleTemps(dir, path.basename(file), tmp);
  const dh = await fsp.open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await dh.close();
  }
}

/** Temp files left by a writer killed before its rename: never read, removed at the next save. */
async function removeStaleTemps(dir: string, base: string, keep: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  const prefix = `.${base}.`;
  for (const n of names) {
    if (n.startsWith(prefix) && n.endsWith('.tmp') && path.join(dir, n) !== keep) {
      await fsp.rm(path.join(dir, n), { force: true });
    }
  }
}

/**
 * Loads the store saved for `endpoint`. Resolves undefined when there is no file; rejects with
 * StoreFileError when the file is unreadable, for another endpoint, or fails its checksum.
 */
export async function loadStore(
  file: string,
  endpoint: string,
  model: ObjectModel,
  supportedObjects?: number[],
): Promise<ObjectStore | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreFileError(file, (err as Error).message);
  }
  let body: StoreFile;
  try {
    body = JSON.parse(text) as StoreFile;
  } catch (err) {
    throw new StoreFileError(file, `not JSON (${(err as Error).message})`);
  }
  if (!body || body.format !== FORMAT || body.version !== 1) throw new StoreFileError(file, 'unknown format');
  if (body.endpoint !== endpoint) throw new StoreFileError(file, `belongs to endpoint "${body.endpoint}"`);
  if (digest(body.store) !== body.sha256) throw new StoreFileError(file, 'checksum mismatch');
  try {
    return storeFromJson(body.store, model, supportedObjects);
  } catch (err) {
    throw new StoreFileError(file, (err as Error).message);
  }
}

/** Removes the saved store (factory reset). */
export async function removeStore(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

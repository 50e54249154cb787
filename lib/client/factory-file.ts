/**
 * A factory provisioning file (as lib/factory writes it) loaded into a device's store: the device then starts
 * as the manufacturing line left it (OMA-TS-LightweightM2M_Core, Bootstrap Sequence: factory bootstrap data
 * first; with LwM2M Server accounts it registers, with only a Bootstrap-Server account it bootstraps).
 * The format comes from the file name: .senml.cbor (112), .senml.json (110), .lwm2m.cbor (11544).
 */
import { promises as fsp } from 'fs';
import { decode } from '../codec';
import { LwM2mPath } from '../model/path';
import type { ObjectModel } from '../model/types';
import { ClientConfigError } from './errors';
import { ObjectStore } from './store';

const BY_EXTENSION: [string, number][] = [
  ['.senml.cbor', 112],
  ['.senml.json', 110],
  ['.lwm2m.cbor', 11544],
];

/** The Content-Format of a factory file by its name, or undefined. */
export function factoryFileFormat(file: string): number | undefined {
  const lower = file.toLowerCase();
  return BY_EXTENSION.find(([ext]) => lower.endsWith(ext))?.[1];
}

/** The store a factory file describes. Throws ClientConfigError naming the file and the reason (never a key). */
export function factoryStoreFromBytes(payload: Buffer, contentFormat: number, model: ObjectModel, name = 'factory file', supportedObjects?: number[]): ObjectStore {
  let root;
  try {
    root = decode(contentFormat, LwM2mPath.root(), payload, model);
  } catch (e) {
    throw new ClientConfigError('factoryFile', `${name}: ${(e as Error).message}`);
  }
  if (root.kind !== 'root') throw new ClientConfigError('factoryFile', `${name}: not a configuration of "/"`);
  const store = new ObjectStore(model, { supportedObjects });
  try {
    for (const [oid, obj] of root.objects) store.bootstrapWrite(new LwM2mPath(oid), obj);
  } catch (e) {
    throw new ClientConfigError('factoryFile', `${name}: ${(e as Error).message}`);
  }
  if (store.instances(0).length === 0) throw new ClientConfigError('factoryFile', `${name}: holds no Security instance`);
  return store;
}

/** Reads a factory file (format by extension). */
export async function loadFactoryFile(file: string, model: ObjectModel, supportedObjects?: number[]): Promise<ObjectStore> {
  const cf = factoryFileFormat(file);
  if (cf === undefined) throw new ClientConfigError('factoryFile', `${file}: the name must end in .senml.cbor, .senml.json or .lwm2m.cbor`);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new ClientConfigError('factoryFile', `${file}: ${(e as Error).message}`);
  }
  return factoryStoreFromBytes(bytes, cf, model, file, supportedObjects);
}

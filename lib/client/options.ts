/** Options of a simulated device, their defaults and the initial (factory) store built from them. */
import { defaultModel } from '../model/registry';
import type { ObjectModel } from '../model/types';
import type { PayloadCodec } from './bootstrap-handler';
import { LWM2M_1_0_TREE_FORMATS } from '../codec/formats';
import { DEFAULT_FORMATS } from './bootstrap-handler';
import { ClientConfigError } from './errors';
import type { FaultOptions } from './faults';
import type { Lwm2mVersion } from './links';
import { storeFromSimple, type SimpleStore } from './serialize';
import { ObjectStore } from './store';
import { parseServerUri } from './target';
import { DEFAULT_TIMING, type ClientTiming } from './timing';

export interface DeviceInfo {
  manufacturer?: string;
  modelNumber?: string;
  serialNumber?: string;
  firmwareVersion?: string;
  /** /3/0/16 Supported Binding and Modes. Default "U". */
  binding?: string;
}

export interface BootstrapServerConfig {
  /** `coap://127.0.0.1:5683` or `coaps://host:5684`. */
  uri: string;
  pskIdentity?: string;
  /** PSK as hex string or Buffer. */
  pskKey?: string | Buffer;
  /** Client Hold Off Time /0/<bs>/11 in seconds. */
  holdOffSec?: number;
  /** Security instance that holds the account. Default 0. */
  instanceId?: number;
}

export interface ClientOptions {
  endpoint: string;
  version?: Lwm2mVersion;
  /** Hierarchical content formats the device accepts; the first is sent as `pct` (1.1+). */
  formats?: number[];
  bootstrapServer?: BootstrapServerConfig;
  /** Factory bootstrap data (pre-provisioned store). Takes precedence over `bootstrapServer`. */
  factory?: ObjectStore | SimpleStore;
  /** Where the provisioned store is kept across restarts. No file = kept in memory only. */
  storeFile?: string;
  model?: ObjectModel;
  supportedObjects?: number[];
  device?: DeviceInfo;
  /** Local address to bind. Default 127.0.0.1. */
  bindAddress?: string;
  timing?: Partial<ClientTiming>;
  faults?: FaultOptions;
  /** Codec functions; default lib/codec. */
  codec?: PayloadCodec;
  /** LwM2M 1.2: try `GET /bspack` before `POST /bs`. Default true for 1.2. */
  usePack?: boolean;
  /** Stop trying after this many failed bootstrap attempts (state 'failed'). Default: never stop. */
  maxBootstrapAttempts?: number;
  /** Security modes the device implements (consistency check C6). Default PSK and NoSec. */
  securityModes?: number[];
  /**
   * Behave like firmware built without security support (NoSec only): a Bootstrap-Write of a Security
   * instance in NoSec mode (/0/x/2 = 3) that carries resource 3, 4 or 5 is refused 4.00 with a diagnostic,
   * and Bootstrap-Finish does not ask a NoSec Security instance for them. Default false.
   */
  noSecOnly?: boolean;
  /** Emit 'trace' events (fleets turn them off). Default true. */
  trace?: boolean;
  random?: () => number;
}

export interface ResolvedOptions extends ClientOptions {
  version: Lwm2mVersion;
  formats: number[];
  model: ObjectModel;
  timing: ClientTiming;
  random: () => number;
  trace: boolean;
}

const VERSIONS: Lwm2mVersion[] = ['1.0', '1.1', '1.2'];

export function resolveOptions(o: ClientOptions): ResolvedOptions {
  if (!o || typeof o.endpoint !== 'string' || o.endpoint.length === 0) {
    throw new ClientConfigError('endpoint', 'a non-empty endpoint name is required');
  }
  const version = o.version ?? '1.1';
  if (!VERSIONS.includes(version)) throw new ClientConfigError('version', `"${String(version)}" is not 1.0, 1.1 or 1.2`);
  const formats = o.formats?.length ? [...o.formats] : [...DEFAULT_FORMATS[version]];
  if (version === '1.0' && formats.some((f) => !LWM2M_1_0_TREE_FORMATS.includes(f))) {
    throw new ClientConfigError('formats', 'an LwM2M 1.0 device knows TLV (11542) and LwM2M JSON (11543) only');
  }
  if (o.bootstrapServer) parseServerUri(o.bootstrapServer.uri);
  const timing: ClientTiming = { ...DEFAULT_TIMING, ...(o.timing ?? {}) };
  for (const [k, v] of Object.entries(timing)) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new ClientConfigError(`timing.${k}`, `must be a number >= 0, got ${String(v)}`);
    }
  }
  return {
    ...o,
    version,
    formats,
    model: o.model ?? defaultModel,
    timing,
    random: o.random ?? Math.random,
    trace: o.trace !== false,
  };
}

function pskBuffer(k: string | Buffer | undefined): Buffer {
  if (k === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(k)) return Buffer.from(k);
  if (!/^([0-9a-fA-F]{2})*$/.test(k)) throw new ClientConfigError('bootstrapServer.pskKey', 'must be hex');
  return Buffer.from(k, 'hex');
}

/** Makes sure /3/0 exists with its mandatory resources (Device is always present). */
export function ensureDevice(store: ObjectStore, o: ResolvedOptions): void {
  const d = o.device ?? {};
  const set = (r: number, v: string) => {
    if (!store.instance(3, 0)?.resources.has(r)) store.setValue(3, 0, r, v);
  };
  set(0, d.manufacturer ?? 'node-red-contrib-lwm2m-bootstrap');
  set(1, d.modelNumber ?? 'simulated-lwm2m-client');
  set(2, d.serialNumber ?? o.endpoint);
  set(3, d.firmwareVersion ?? '1.0.0');
  set(16, d.binding ?? 'U');
  const dev = store.ensureInstance(3, 0);
  if (!dev.resources.has(11)) dev.resources.set(11, { kind: 'multiple', id: 11, type: 'integer', instances: new Map([[0, 0]]) });
}

/** The store a device has before any bootstrap: factory data, or a Bootstrap-Server account from options. */
export function factoryStore(o: ResolvedOptions): ObjectStore {
  let store: ObjectStore;
  if (o.factory instanceof ObjectStore) store = o.factory.clone();
  else if (o.factory) store = storeFromSimple(o.factory, o.model, o.supportedObjects);
  else store = new ObjectStore(o.model, { supportedObjects: o.supportedObjects });
  const bs = o.bootstrapServer;
  if (bs && store.bootstrapAccountIds().length === 0) {
    const { secure } = parseServerUri(bs.uri);
    const id = bs.instanceId ?? 0;
    store.setValue(0, id, 0, bs.uri);
    store.setValue(0, id, 1, true);
    store.setValue(0, id, 2, secure ? 0 : 3);
    store.setValue(0, id, 3, Buffer.from(bs.pskIdentity ?? '', 'utf8'));
    store.setValue(0, id, 4, Buffer.alloc(0));
    store.setValue(0, id, 5, pskBuffer(bs.pskKey));
    store.setValue(0, id, 11, bs.holdOffSec ?? 0);
    store.setValue(0, id, 12, 0);
  }
  ensureDevice(store, o);
  return store;
}

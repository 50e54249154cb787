/**
 * The factory file formats, in one table: name, file extension, and how each is made from a FactoryConfig.
 *
 * - senml-cbor / senml-json / lwm2m-cbor: the records of one Bootstrap-Write of "/" (OMA-TS-LightweightM2M_Core,
 *   Data Formats: SenML CBOR 112, SenML JSON 110, LwM2M CBOR 11544), as LwM2M client SDKs take a factory
 *   provisioning file: each resource named by its full path (SenML base name "/" plus "O/I/R"), opaque keys
 *   as bytes (SenML "vd"; base64url text in SenML JSON).
 * - json: a summary for the manufacturing system (endpoint, mode, accounts, every instance as JSON).
 * - nrf91: a shell script of nRF91 modem AT commands (%CMNG stores the PSK identity and key under a security
 *   tag) and the nRF Connect SDK settings naming the URI and tag.
 * - wakaama / anjay / leshan / zephyr: how the common open-source clients are started with the same account.
 * Every file holds the device's key: written 0600 by the callers, with a warning.
 */
import { encode } from '../codec';
import { LwM2mPath } from '../model/path';
import { defaultModel } from '../model/registry';
import { nodeToJson } from '../model/tree';
import type { ObjectModel } from '../model/types';
import { clientArgs, nrf91Script } from './scripts';
import { FactoryError, type FactoryConfig, type StartAccount } from './types';

export interface FactoryFormat {
  readonly name: string;
  /** Appended to the endpoint name: `<endpoint>.<extension>`. */
  readonly extension: string;
  /** LwM2M Content-Format of the file, for the binary/JSON instance formats. */
  readonly contentFormat?: number;
  readonly description: string;
  render(c: FactoryConfig, model: ObjectModel): Buffer;
}

function instances(cf: number) {
  return (c: FactoryConfig, model: ObjectModel): Buffer => encode(cf, LwM2mPath.root(), c.root, model);
}

function accountJson(a: StartAccount): Record<string, unknown> {
  const out: Record<string, unknown> = {
    uri: a.uri,
    bootstrapServer: a.bootstrap,
    securityInstance: a.instanceId,
    securityMode: ['psk', 'rpk', 'x509', 'nosec', 'est'][a.securityMode] ?? a.securityMode,
  };
  if (a.shortServerId !== undefined) out.shortServerId = a.shortServerId;
  if (a.pskIdentity !== undefined) out.pskIdentity = a.pskIdentity;
  if (a.pskKey !== undefined) out.pskKey = a.pskKey.toString('hex');
  return out;
}

function summary(c: FactoryConfig): Buffer {
  const body = {
    format: 'lwm2m-factory-config',
    version: 1,
    warning: 'holds the device keys: keep this file private and delete it once the device is flashed',
    endpoint: c.endpoint,
    mode: c.mode === 'dm' ? 'factory-to-DM' : 'factory-to-bootstrap',
    profile: c.profileName,
    bootstrapServer: accountJson(c.bootstrapAccount),
    start: accountJson(c.start),
    nrf91SecTag: c.secTag,
    instances: nodeToJson(c.root),
  };
  return Buffer.from(JSON.stringify(body, null, 2) + '\n', 'utf8');
}

const text = (f: (c: FactoryConfig) => string) => (c: FactoryConfig): Buffer => Buffer.from(f(c), 'utf8');

/** Every format, in the order files are written. */
export const FACTORY_FORMATS: readonly FactoryFormat[] = Object.freeze([
  { name: 'senml-cbor', extension: 'senml.cbor', contentFormat: 112, description: 'SenML CBOR of the instances (Bootstrap-Write of /)', render: instances(112) },
  { name: 'senml-json', extension: 'senml.json', contentFormat: 110, description: 'SenML JSON of the instances (Bootstrap-Write of /)', render: instances(110) },
  { name: 'lwm2m-cbor', extension: 'lwm2m.cbor', contentFormat: 11544, description: 'LwM2M CBOR of the instances', render: instances(11544) },
  { name: 'json', extension: 'factory.json', description: 'JSON summary (accounts, keys, every instance)', render: summary },
  { name: 'nrf91', extension: 'nrf91.sh', description: 'nRF91 modem commands (AT%CMNG) and nRF Connect SDK settings', render: text(nrf91Script) },
  { name: 'wakaama', extension: 'wakaama.args', description: 'Eclipse Wakaama lwm2mclient command line', render: text((c) => clientArgs('wakaama', c)) },
  { name: 'anjay', extension: 'anjay.args', description: 'AVSystem Anjay demo client command line', render: text((c) => clientArgs('anjay', c)) },
  { name: 'leshan', extension: 'leshan.args', description: 'Eclipse Leshan client demo command line', render: text((c) => clientArgs('leshan', c)) },
  { name: 'zephyr', extension: 'zephyr.conf', description: 'Zephyr lwm2m_client sample Kconfig fragment', render: text((c) => clientArgs('zephyr', c)) },
]);

export const FACTORY_FORMAT_NAMES: readonly string[] = FACTORY_FORMATS.map((f) => f.name);

/** Format names from "senml-cbor,json" or "all"; throws FactoryError naming an unknown one. */
export function parseFactoryFormats(v: string | readonly string[] | undefined): FactoryFormat[] {
  const parts = (Array.isArray(v) ? v : String(v ?? 'all').split(/[\s,;]+/)).map((s) => String(s).trim().toLowerCase()).filter(Boolean);
  if (parts.length === 0 || parts.includes('all')) return [...FACTORY_FORMATS];
  const out: FactoryFormat[] = [];
  for (const p of parts) {
    const f = FACTORY_FORMATS.find((x) => x.name === p);
    if (!f) throw new FactoryError(undefined, `unknown format ${JSON.stringify(p)}; formats: ${FACTORY_FORMAT_NAMES.join(', ')}, all`);
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

/** A file name from an endpoint name: characters outside [A-Za-z0-9._-] become "_", never a path. */
export function factoryFileBase(endpoint: string): string {
  const base = endpoint.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (!base) throw new FactoryError(endpoint, 'the endpoint name gives no file name');
  return base;
}

export interface FactoryFile {
  endpoint: string;
  format: string;
  /** `<endpoint>.<extension>`, a plain file name (no directory). */
  name: string;
  content: Buffer;
}

/** The files of one device in the given formats. */
export function renderFactoryFiles(c: FactoryConfig, formats: readonly FactoryFormat[], model: ObjectModel = defaultModel): FactoryFile[] {
  const base = factoryFileBase(c.endpoint);
  return formats.map((f) => ({ endpoint: c.endpoint, format: f.name, name: `${base}.${f.extension}`, content: f.render(c, model) }));
}

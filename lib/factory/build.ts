/**
 * One device row -> its factory configuration: the instances it must hold before first boot.
 *
 * Factory-to-bootstrap writes the Bootstrap-Server account only (OMA-TS-LightweightM2M_Core, Bootstrap
 * Modes: Factory Bootstrap, and the Bootstrap Sequence: a client without LwM2M Server accounts then does a
 * Client-Initiated Bootstrap). Factory-to-DM writes what a Bootstrap-Server would (the profile's server
 * accounts, ACLs and objects, built as for a Bootstrap-Pack) plus the Bootstrap-Server account, so the device
 * registers at once and can still be sent back to bootstrap (/1/x/9).
 *
 * The Bootstrap-Server account uses PSK (Security Mode 0) for coaps:// and NoSec (3) for coap://. A coaps row
 * without a key gets one from crypto.randomBytes; a row without an identity uses its endpoint name (which is
 * what the CoAPs listener's endpoint binding accepts without a device-table entry).
 */
import { randomBytes } from 'node:crypto';
import { defaultModel } from '../model/registry';
import { instanceFromJson } from '../model/tree';
import type { ObjectInstanceNode, ObjectModel, RootNode } from '../model/types';
import { bootstrapSecurityInstance } from '../profile/instances';
import { buildBootstrapPack } from '../profile/plan';
import { applyTemplate } from '../profile/template';
import type { BootstrapProfile } from '../profile/types';
import { FactoryError, type FactoryConfig, type FactoryDevice, type FactoryMode, type FactoryOptions, type StartAccount } from './types';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
/** Printable ASCII without quotes or backslash: safe in AT commands, shell words and Kconfig strings. */
const SAFE_IDENTITY = /^[\x20-\x7e]+$/;
const UNSAFE_IN_SCRIPTS = /["'\\`$]/;

export const DEFAULT_KEY_BYTES = 16;
export const NRF91_BOOTSTRAP_SEC_TAG = 1111;
export const NRF91_SERVER_SEC_TAG = 1112;

/** coap:// or coaps:// with a host; throws FactoryError otherwise. */
export function checkBootstrapUri(uri: unknown): { uri: string; secure: boolean } {
  if (typeof uri !== 'string' || uri.trim() === '') throw new FactoryError(undefined, 'a Bootstrap-Server URI is required (coap://host:port or coaps://host:port)');
  let u: URL;
  try {
    u = new URL(uri.trim());
  } catch {
    throw new FactoryError(undefined, `${JSON.stringify(uri)} is not a URI`);
  }
  if (u.protocol !== 'coap:' && u.protocol !== 'coaps:') throw new FactoryError(undefined, `the Bootstrap-Server URI must be coap:// or coaps://, got ${u.protocol}//`);
  if (!u.hostname) throw new FactoryError(undefined, `${JSON.stringify(uri)} has no host`);
  if (UNSAFE_IN_SCRIPTS.test(uri)) throw new FactoryError(undefined, 'the Bootstrap-Server URI may not contain quotes, backslashes, ` or $');
  return { uri: uri.trim(), secure: u.protocol === 'coaps:' };
}

function keyBytesFor(profile: BootstrapProfile | undefined, opts: FactoryOptions, ep: string): number {
  const fromProfile = profile?.templates?.pskKeyBytes;
  const n = fromProfile !== undefined ? Number(fromProfile) : (opts.keyBytes ?? DEFAULT_KEY_BYTES);
  if (!Number.isInteger(n) || n < 16 || n > 64) {
    throw new FactoryError(ep, `the PSK length must be a whole number of bytes 16..64${fromProfile !== undefined ? ' (templates.pskKeyBytes of its profile)' : ''}, got ${String(fromProfile ?? opts.keyBytes)}`);
  }
  return n;
}

function profileOf(device: FactoryDevice, opts: FactoryOptions, mode: FactoryMode): { name?: string; profile?: BootstrapProfile } {
  const name = device.profile || opts.defaultProfile || undefined;
  if (!name) {
    if (mode === 'dm') throw new FactoryError(device.endpoint, 'factory-to-DM needs a profile: the row names none and there is no default profile');
    return {};
  }
  const profile = opts.profileFor?.(name);
  if (!profile && mode === 'dm') throw new FactoryError(device.endpoint, `no profile named ${JSON.stringify(name)}`);
  return { name, profile };
}

/** The factory configuration of one device. Throws FactoryError naming the device (never a key). */
export function buildFactoryConfig(device: FactoryDevice, opts: FactoryOptions): FactoryConfig {
  const model = opts.model ?? defaultModel;
  const mode: FactoryMode = opts.mode ?? 'bootstrap';
  if (mode !== 'bootstrap' && mode !== 'dm') throw new FactoryError(undefined, `mode must be "bootstrap" or "dm", got ${JSON.stringify(mode)}`);
  const ep = typeof device?.endpoint === 'string' ? device.endpoint.trim() : '';
  if (!ep) throw new FactoryError(undefined, 'a device row has no endpoint name');
  const { uri, secure } = checkBootstrapUri(opts.bootstrapUri);
  const { name: profileName, profile } = profileOf(device, opts, mode);

  const generated: FactoryConfig['generated'] = {};
  let identity: string | undefined;
  let key: Buffer | undefined;
  if (secure) {
    identity = device.pskIdentity?.trim() || undefined;
    if (!identity) identity = generated.pskIdentity = ep;
    if (!SAFE_IDENTITY.test(identity) || UNSAFE_IN_SCRIPTS.test(identity) || Buffer.byteLength(identity) > 128) {
      throw new FactoryError(ep, 'the PSK identity must be 1..128 printable ASCII characters without quotes, backslashes, ` or $');
    }
    const hex = device.pskKey?.trim();
    if (hex) {
      if (!HEX.test(hex)) throw new FactoryError(ep, 'the PSK in the device table is not hex (an even number of 0-9, a-f)');
      key = Buffer.from(hex, 'hex');
      if (key.length < 16 || key.length > 64) throw new FactoryError(ep, `the PSK in the device table is ${key.length} bytes; LwM2M clients take 16..64`);
    } else {
      key = randomBytes(keyBytesFor(profile, opts, ep));
      generated.pskKey = key.toString('hex');
    }
  }

  let root: RootNode = { kind: 'root', objects: new Map() };
  if (mode === 'dm') {
    const values: Record<string, string> = { ...(device.values ?? {}), endpoint: ep };
    if (identity !== undefined) values.pskIdentity = identity;
    if (key !== undefined) values.pskKey = key.toString('hex');
    if (device.imei) values.imei = device.imei;
    if (device.iccid) values.iccid = device.iccid;
    const resolved = opts.fillProfile ? opts.fillProfile(profile as BootstrapProfile, values) : applyTemplate(profile as BootstrapProfile, values, { model });
    if (!(resolved.servers ?? []).length) throw new FactoryError(ep, `profile ${JSON.stringify(profileName)} has no LwM2M Server account to provision`);
    root = buildBootstrapPack(resolved, model);
  }
  const bsId = profile?.bootstrapAccountInstanceId ?? 0;
  const bsInstance = bootstrapInstance(uri, secure, identity, key, opts.holdOffSec, bsId, model, ep);
  let security = root.objects.get(0);
  if (!security) root.objects.set(0, (security = { kind: 'object', id: 0, instances: new Map() }));
  security.instances.set(bsId, bsInstance);
  security.instances = new Map([...security.instances].sort((a, b) => a[0] - b[0]));
  root.objects = new Map([...root.objects].sort((a, b) => a[0] - b[0]));

  const bootstrapAccount: StartAccount = { uri, bootstrap: true, securityMode: secure ? 0 : 3, pskIdentity: identity, pskKey: key, instanceId: bsId };
  const start = mode === 'dm' ? firstServerAccount(root, ep) : bootstrapAccount;
  const secTag = opts.secTag ?? (mode === 'dm' ? NRF91_SERVER_SEC_TAG : NRF91_BOOTSTRAP_SEC_TAG);
  if (!Number.isInteger(secTag) || secTag < 0 || secTag > 2147483647) throw new FactoryError(undefined, 'the nRF91 security tag must be a whole number 0..2147483647');
  return { endpoint: ep, mode, root, bootstrapAccount, start, generated, profileName, secTag };
}

function bootstrapInstance(
  uri: string,
  secure: boolean,
  identity: string | undefined,
  key: Buffer | undefined,
  holdOffSec: number | undefined,
  id: number,
  model: ObjectModel,
  ep: string,
): ObjectInstanceNode {
  if (holdOffSec !== undefined && (!Number.isInteger(holdOffSec) || holdOffSec < 0)) {
    throw new FactoryError(undefined, 'the Client Hold Off Time must be a whole number of seconds >= 0');
  }
  const b = bootstrapSecurityInstance({
    uri,
    securityMode: secure ? 'psk' : 'nosec',
    pskIdentity: identity ?? '',
    pskKey: key ? { hex: key.toString('hex') } : '',
    clientHoldOffTime: holdOffSec ?? 0,
    accountTimeout: 0,
  });
  try {
    return instanceFromJson(0, id, b.resources, model);
  } catch (e) {
    throw new FactoryError(ep, `the Bootstrap-Server account cannot be built: ${(e as Error).message}`);
  }
}

function text(inst: ObjectInstanceNode, rid: number): string | undefined {
  const r = inst.resources.get(rid);
  if (!r || r.kind !== 'single') return undefined;
  return Buffer.isBuffer(r.value) ? r.value.toString('utf8') : typeof r.value === 'string' ? r.value : undefined;
}

function num(inst: ObjectInstanceNode, rid: number): number | undefined {
  const r = inst.resources.get(rid);
  if (!r || r.kind !== 'single') return undefined;
  return typeof r.value === 'number' ? r.value : typeof r.value === 'bigint' ? Number(r.value) : undefined;
}

/** The LwM2M Server account with the lowest Security instance id: what a DM-provisioned device registers with first. */
function firstServerAccount(root: RootNode, ep: string): StartAccount {
  const sec = [...(root.objects.get(0)?.instances.values() ?? [])].find((i) => {
    const r = i.resources.get(1);
    return !(r && r.kind === 'single' && r.value === true);
  });
  if (!sec) throw new FactoryError(ep, 'the profile gave no LwM2M Server Security instance');
  const mode = num(sec, 2) ?? 3;
  const keyRes = sec.resources.get(5);
  const key = keyRes && keyRes.kind === 'single' && Buffer.isBuffer(keyRes.value) && keyRes.value.length ? keyRes.value : undefined;
  return {
    uri: text(sec, 0) ?? '',
    bootstrap: false,
    securityMode: mode,
    pskIdentity: mode === 0 ? text(sec, 3) : undefined,
    pskKey: mode === 0 ? key : undefined,
    shortServerId: num(sec, 10),
    instanceId: sec.id,
  };
}

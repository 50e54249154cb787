/**
 * The checks a client runs at Bootstrap-Finish and after applying a Bootstrap-Pack (OMA-TS-LightweightM2M_Core,
 * Bootstrap Interface: Bootstrap-Finish and Bootstrap-Pack-Request, the configuration checks; C1..C9 here). An empty list means consistent; otherwise the client answers 4.06 with the issues as text.
 */
import { bufferOf, isTrue, numberOf, stringOf, type ObjectStore } from './store';

export interface ConsistencyIssue {
  rule: 'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6' | 'C7' | 'C8' | 'C9';
  path: string;
  message: string;
}

const SECURITY_MANDATORY = [0, 1, 2, 3, 4, 5];
/** Public Key or Identity, Server Public Key, Secret Key: what NoSec-only firmware has no room for. */
const NOSEC_KEYS = [3, 4, 5];
const SERVER_MANDATORY = [0, 1, 6, 7];
const SECURE_SCHEMES = new Set(['coaps:', 'coaps+tcp:']);
const PLAIN_SCHEMES = new Set(['coap:', 'coap+tcp:']);

export interface ConsistencyOptions {
  /** Require exactly one Bootstrap-Server account (true) or at most one (false). Default true. */
  requireBootstrapAccount?: boolean;
  /** Security modes the device implements. Default PSK (0) and NoSec (3). */
  supportedSecurityModes?: number[];
  /** NoSec-only firmware: a NoSec Security instance needs no resources 3, 4, 5 (it has no room for them). */
  noSecOnly?: boolean;
}

export function checkConsistency(store: ObjectStore, opts: ConsistencyOptions = {}): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  const add = (rule: ConsistencyIssue['rule'], path: string, message: string) => issues.push({ rule, path, message });
  const modes = new Set(opts.supportedSecurityModes ?? [0, 3]);

  // C1: one Bootstrap-Server account.
  const bs = store.bootstrapAccountIds();
  if (bs.length > 1) add('C1', '/0', `${bs.length} Bootstrap-Server accounts (/0/${bs.join(', /0/')}); at most one allowed`);
  if (bs.length === 0 && opts.requireBootstrapAccount !== false) add('C1', '/0', 'no Bootstrap-Server account');

  // C5 (Security), C3, C6 per Security instance.
  const ssids = new Map<number, number>();
  for (const sec of store.instances(0)) {
    const p = `/0/${sec.id}`;
    const keyless = opts.noSecOnly === true && numberOf(sec.resources.get(2)) === 3;
    for (const r of SECURITY_MANDATORY) {
      if (keyless && NOSEC_KEYS.includes(r)) continue;
      if (!sec.resources.has(r)) add('C5', `${p}/${r}`, `mandatory Security resource ${r} missing`);
    }
    const isBs = isTrue(sec.resources.get(1));
    if (!isBs) {
      const ssid = numberOf(sec.resources.get(10));
      if (ssid === undefined) add('C3', `${p}/10`, 'server account without Short Server ID');
      else if (ssid < 1 || ssid > 65534) add('C3', `${p}/10`, `Short Server ID ${ssid} outside 1..65534`);
      else if (ssids.has(ssid)) add('C3', `${p}/10`, `Short Server ID ${ssid} also used by /0/${ssids.get(ssid)}`);
      else ssids.set(ssid, sec.id);
    }
    const uri = stringOf(sec.resources.get(0));
    const mode = numberOf(sec.resources.get(2));
    if (uri !== undefined) {
      let scheme: string | undefined;
      try {
        scheme = new URL(uri).protocol;
      } catch {
        add('C6', `${p}/0`, `server URI "${uri}" does not parse`);
      }
      if (scheme !== undefined && mode !== undefined) {
        if (mode === 3 && !PLAIN_SCHEMES.has(scheme)) add('C6', `${p}/0`, `URI scheme ${scheme} does not fit NoSec mode`);
        if (mode !== 3 && !SECURE_SCHEMES.has(scheme)) {
          add('C6', `${p}/0`, `URI scheme ${scheme} does not fit security mode ${mode}`);
        }
      }
    }
    if (mode !== undefined) {
      if (mode < 0 || mode > 4) add('C6', `${p}/2`, `security mode ${mode} outside 0..4`);
      else if (!modes.has(mode)) add('C6', `${p}/2`, `security mode ${mode} not supported by this device`);
      if (mode === 0) {
        if (!bufferOf(sec.resources.get(3))?.length) add('C6', `${p}/3`, 'PSK identity is empty');
        if (!bufferOf(sec.resources.get(5))?.length) add('C6', `${p}/5`, 'PSK key is empty');
      }
    }
    // C9: OSCORE link.
    const link = sec.resources.get(17);
    if (link && link.kind === 'single' && typeof link.value === 'object' && !Buffer.isBuffer(link.value)) {
      const { objectId, instanceId } = link.value as { objectId: number; instanceId: number };
      if (objectId !== 21 || !store.instance(21, instanceId)) {
        add('C9', `${p}/17`, `OSCORE link ${objectId}:${instanceId} names no /21 instance`);
      }
    }
  }

  // C2: at least one server account.
  if (store.serverAccounts().length === 0) add('C2', '/0', 'no LwM2M Server account');

  // C4 + C5 (Server): SSID pairing.
  const serverSsids = new Set<number>();
  const binding = stringOf(store.instance(3, 0)?.resources.get(16));
  for (const srv of store.instances(1)) {
    const p = `/1/${srv.id}`;
    for (const r of SERVER_MANDATORY) {
      if (!srv.resources.has(r)) add('C5', `${p}/${r}`, `mandatory Server resource ${r} missing`);
    }
    const ssid = numberOf(srv.resources.get(0));
    if (ssid === undefined) continue;
    if (serverSsids.has(ssid)) add('C4', `${p}/0`, `two Server instances with Short Server ID ${ssid}`);
    serverSsids.add(ssid);
    if (!ssids.has(ssid)) add('C4', `${p}/0`, `Server instance with Short Server ID ${ssid} has no Security instance`);
    const b = stringOf(srv.resources.get(7));
    if (b !== undefined && binding !== undefined) {
      const unsupported = [...b.replace(/Q/g, '')].filter((ch) => !binding.includes(ch));
      if (unsupported.length) add('C6', `${p}/7`, `binding "${b}" not supported (device supports "${binding}")`);
    }
  }
  for (const [ssid, secId] of ssids) {
    if (!serverSsids.has(ssid)) add('C4', `/0/${secId}/10`, `Short Server ID ${ssid} has no Server instance`);
  }

  // C7: Device object.
  const dev = store.instance(3, 0);
  if (!dev) add('C7', '/3/0', "Device object MUST have instance 0");
  else if (!dev.resources.has(16)) add('C7', '/3/0/16', 'Device resource 16 (Supported Binding and Modes) missing');

  // C8: ACL instances refer to existing objects and owners.
  const acl = store.instances(2);
  if (acl.length && !store.supported.has(2)) add('C8', '/2', 'Access Control instances written but object 2 is not supported');
  for (const a of acl) {
    const oid = numberOf(a.resources.get(0));
    const owner = numberOf(a.resources.get(3));
    if (oid === undefined || !store.isSupported(oid)) add('C8', `/2/${a.id}/0`, `ACL names unsupported object ${oid}`);
    if (owner !== undefined && owner !== 65535 && !ssids.has(owner)) {
      add('C8', `/2/${a.id}/3`, `ACL owner ${owner} is not a configured Short Server ID`);
    }
  }
  return issues;
}

/** The diagnostic payload of a 4.06: one line per issue. */
export function formatIssues(issues: ConsistencyIssue[]): string {
  return issues.map((i) => `${i.rule} ${i.path}: ${i.message}`).join('\n');
}

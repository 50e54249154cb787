/**
 * The checks of a profile that JSON Schema cannot express: unique Short Server IDs, URI scheme against
 * Security Mode, credentials a mode does not use, resource values typed per the object model, ACL owners,
 * instance ids that would overwrite the Bootstrap-Server account, Bootstrap-Delete targets. Runs on a
 * profile that already passed the schema. Values still holding `${…}` placeholders are not checked here;
 * they are checked again once applyTemplate has filled them in.
 */
import { LwM2mPath } from '../model/path';
import { resourceFromJson } from '../model/tree';
import { ValueError } from '../model/errors';
import { valueFromJson } from '../model/values';
import type { ObjectModel } from '../model/types';
import { pointer } from './errors';
import { redactedIssues } from './redact';
import {
  aclInstance,
  bootstrapSecurityInstance,
  BuiltInstance,
  CREDENTIAL_FIELDS,
  MODE_CREDENTIALS,
  SECURITY_MODE_NAMES,
  SECURITY_NAMED,
  SERVER_NAMED,
  securityModeNumber,
  serverInstance,
  serverSecurityInstance,
  defaultDeletes,
} from './instances';
import { hasPlaceholder } from './placeholders';
import type { AccountCredentials, BootstrapProfile, ProfileIssue } from './types';

type Issues = ProfileIssue[];

/** Converts each resource of a built instance through the model; a bad value becomes an issue at its field. */
function checkValues(objectId: number, built: BuiltInstance, base: string, model: ObjectModel, issues: Issues): void {
  for (const [k, v] of Object.entries(built.resources)) {
    if (hasPlaceholder(v)) continue;
    const rid = Number(k);
    try {
      resourceFromJson(objectId, 0, rid, v, model);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      const tail = e.path.split('/').slice(4); // "/O/I/R/RI" -> [RI]
      const field = built.origin[rid] ?? `resources/${rid}`;
      issues.push({ pointer: pointer(base, ...field.split('/'), ...tail), message: e.reason });
    }
  }
}

const SECURE_SCHEMES = ['coaps', 'coaps+tcp'];
const PLAIN_SCHEMES = ['coap', 'coap+tcp'];

function checkUri(acc: AccountCredentials & { uri: string }, base: string, issues: Issues): void {
  const at = pointer(base, 'uri');
  if (hasPlaceholder(acc.uri)) return;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(acc.uri);
  if (!m) {
    issues.push({ pointer: at, message: `"${acc.uri}" is not a CoAP URI; write it as coaps://host:port or coap://host:port` });
    return;
  }
  const scheme = m[1].toLowerCase();
  if (![...SECURE_SCHEMES, ...PLAIN_SCHEMES].includes(scheme)) {
    issues.push({ pointer: at, message: `the scheme "${scheme}://" is not a CoAP scheme; use coaps:// (DTLS) or coap:// (no security)` });
    return;
  }
  let host = '';
  try {
    host = new URL(acc.uri).hostname;
  } catch {
    // reported below
  }
  if (!host) issues.push({ pointer: at, message: `"${acc.uri}" has no host; write it as ${scheme}://host:port` });
  const mode = securityModeNumber(acc.securityMode);
  if (mode === undefined) return;
  if (mode === 3 && SECURE_SCHEMES.includes(scheme)) {
    issues.push({ pointer: at, message: `a nosec account connects without DTLS, so its URI starts with coap:// (not ${scheme}://), or choose a secure securityMode` });
  } else if (mode !== 3 && PLAIN_SCHEMES.includes(scheme)) {
    issues.push({
      pointer: at,
      message: `a ${SECURITY_MODE_NAMES[mode]} account connects over DTLS, so its URI starts with coaps:// (not ${scheme}://), or set securityMode "nosec"`,
    });
  }
}

function checkCredentials(acc: AccountCredentials, base: string, issues: Issues): void {
  const mode = securityModeNumber(acc.securityMode);
  if (mode === undefined) return;
  const used = MODE_CREDENTIALS[mode];
  for (const f of CREDENTIAL_FIELDS) {
    if (acc[f] !== undefined && !used.includes(f)) {
      const takes = used.length ? `takes ${used.join(', ')}` : 'takes no credentials';
      issues.push({ pointer: pointer(base, f), message: `a ${SECURITY_MODE_NAMES[mode]} account ${takes}; remove ${f}` });
    }
  }
  if (mode === 0 && acc.pskKey !== undefined && !hasPlaceholder(acc.pskKey)) {
    try {
      const key = valueFromJson('opaque', acc.pskKey, '') as Buffer;
      if (key.length === 0) issues.push({ pointer: pointer(base, 'pskKey'), message: 'the pre-shared key is empty; give 16 to 64 bytes, e.g. {"hex": "…"}' });
      else if (key.length > 64) issues.push({ pointer: pointer(base, 'pskKey'), message: `the pre-shared key has ${key.length} bytes; clients need support only up to 64` });
    } catch {
      // the value check reports malformed bytes
    }
  }
  if (mode === 0 && acc.pskIdentity !== undefined && acc.pskIdentity === '') {
    issues.push({ pointer: pointer(base, 'pskIdentity'), message: 'the PSK identity is empty; use e.g. "${endpoint}"' });
  }
}

function checkExtras(extras: Record<string, unknown> | undefined, named: Readonly<Record<number, string>>, base: string, issues: Issues): void {
  for (const k of Object.keys(extras ?? {})) {
    const n = named[Number(k)];
    if (n !== undefined) issues.push({ pointer: pointer(base, k), message: `resource ${k} is set through ${n}; remove it here` });
  }
}

/** Paths that remove every server account (so the profile must write one). */
function wipesServers(deletes: string[]): boolean {
  return deletes.some((d) => d === '/' || d === '/0' || d === '/1');
}

function unique<T>(values: { value: T; at: string }[], what: (v: T) => string, issues: Issues): void {
  const seen = new Map<T, string>();
  for (const { value, at } of values) {
    const first = seen.get(value);
    if (first !== undefined) issues.push({ pointer: at, message: `${what(value)} is already used at ${first}` });
    else seen.set(value, at);
  }
}

export function semanticIssues(profile: BootstrapProfile, model: ObjectModel): ProfileIssue[] {
  const issues: Issues = [...redactedIssues(profile)];
  const servers = profile.servers ?? [];
  const deletes = profile.delete ?? defaultDeletes((profile.acl ?? []).length > 0);
  const ssids = new Set(servers.map((s) => s.shortServerId).filter((x): x is number => typeof x === 'number'));
  const bsPinned =
    profile.autoId === false || profile.bootstrapAccountInstanceId !== undefined ? (profile.bootstrapAccountInstanceId ?? 0) : undefined;

  // Server accounts
  unique(
    servers.flatMap((s, i) => (typeof s.shortServerId === 'number' ? [{ value: s.shortServerId, at: pointer('/servers', i, 'shortServerId') }] : [])),
    (v) => `Short Server ID ${v}`,
    issues,
  );
  unique(
    servers.flatMap((s, i) => (typeof s.securityInstanceId === 'number' ? [{ value: s.securityInstanceId, at: pointer('/servers', i, 'securityInstanceId') }] : [])),
    (v) => `Security instance ${v}`,
    issues,
  );
  unique(
    servers.flatMap((s, i) => (typeof s.serverInstanceId === 'number' ? [{ value: s.serverInstanceId, at: pointer('/servers', i, 'serverInstanceId') }] : [])),
    (v) => `Server instance ${v}`,
    issues,
  );
  servers.forEach((s, i) => {
    const base = pointer('/servers', i);
    checkUri(s, base, issues);
    checkCredentials(s, base, issues);
    checkExtras(s.security, SECURITY_NAMED, pointer(base, 'security'), issues);
    checkExtras(s.server, SERVER_NAMED, pointer(base, 'server'), issues);
    if (bsPinned !== undefined && s.securityInstanceId === bsPinned) {
      issues.push({
        pointer: pointer(base, 'securityInstanceId'),
        message: `Security instance ${bsPinned} holds the Bootstrap-Server account; pin another id or leave it out`,
      });
    }
    checkValues(0, serverSecurityInstance(s), base, model, issues);
    checkValues(1, serverInstance(s), base, model, issues);
  });
  if (servers.length === 0 && wipesServers(deletes)) {
    issues.push({
      pointer: '/servers',
      message: `the profile deletes the device's server accounts (${deletes.filter((d) => ['/', '/0', '/1'].includes(d)).join(', ')}) and writes none; the device needs at least one LwM2M Server account, so add one to servers or set "delete": []`,
    });
  }

  // The Bootstrap-Server account
  if (profile.bootstrapServer) {
    const bs = profile.bootstrapServer;
    checkUri(bs, '/bootstrapServer', issues);
    checkCredentials(bs, '/bootstrapServer', issues);
    checkExtras(bs.security, SECURITY_NAMED, '/bootstrapServer/security', issues);
    checkValues(0, bootstrapSecurityInstance(bs), '/bootstrapServer', model, issues);
  }

  // Access Control
  const acl = profile.acl ?? [];
  unique(
    acl.flatMap((a, i) => (typeof a.instanceId === 'number' ? [{ value: a.instanceId, at: pointer('/acl', i, 'instanceId') }] : [])),
    (v) => `Access Control instance ${v}`,
    issues,
  );
  unique(
    acl.flatMap((a, i) =>
      typeof a.objectId === 'number' && typeof a.objectInstanceId === 'number'
        ? [{ value: `${a.objectId}/${a.objectInstanceId}`, at: pointer('/acl', i) }]
        : [],
    ),
    (v) => `an Access Control row for /${v}`,
    issues,
  );
  const ssidKnown = (n: number) => ssids.has(n) || !wipesServers(deletes);
  acl.forEach((a, i) => {
    const base = pointer('/acl', i);
    if (typeof a.owner === 'number' && a.owner !== 65535 && !ssidKnown(a.owner)) {
      issues.push({ pointer: pointer(base, 'owner'), message: `no server account in this profile has Short Server ID ${a.owner}; use one of the servers' ids or 65535 (bootstrap only)` });
    }
    for (const k of Object.keys(a.rights ?? {})) {
      const n = Number(k);
      if (n === 65535) issues.push({ pointer: pointer(base, 'rights', k), message: 'rights are given per Short Server ID 1..65534, or "0" for the default' });
      else if (n !== 0 && !ssidKnown(n)) {
        issues.push({ pointer: pointer(base, 'rights', k), message: `no server account in this profile has Short Server ID ${k}; rights need an existing server (or "0" for the default)` });
      }
    }
    checkValues(2, aclInstance(a), base, model, issues);
  });

  // Other objects
  for (const [key, list] of Object.entries(profile.objects ?? {})) {
    const oid = Number(key);
    const base = pointer('/objects', key);
    const use = { 0: 'servers or bootstrapServer', 1: 'servers', 2: 'acl' }[oid];
    if (use) {
      issues.push({ pointer: base, message: `object ${oid} is written through ${use}, not objects` });
      continue;
    }
    const def = model.getObject(oid);
    if (!def) {
      issues.push({ pointer: base, message: `object ${oid} is not in the object model; add its definition (an ObjectRegistry with the object's registry XML) to write it` });
      continue;
    }
    unique(
      list.flatMap((inst, j) => (typeof inst.instanceId === 'number' ? [{ value: inst.instanceId, at: pointer(base, j, 'instanceId') }] : [])),
      (v) => `instance ${v} of object ${oid}`,
      issues,
    );
    if (!def.multiple && (list.length > 1 || list.some((x) => typeof x.instanceId === 'number' && x.instanceId !== 0))) {
      issues.push({ pointer: base, message: `${def.name} (object ${oid}) has a single instance, /${oid}/0` });
    }
    const wholeInstance = def.multiple || !def.mandatory;
    list.forEach((inst, j) => {
      const at = pointer(base, j);
      const built: BuiltInstance = { resources: inst.resources ?? {}, origin: {} };
      checkValues(oid, built, at, model, issues);
      if (!wholeInstance) return;
      const missing = Object.values(def.resources).filter(
        (r) => r.mandatory && (r.operations === 'RW' || r.operations === '') && !(String(r.id) in (inst.resources ?? {})),
      );
      if (missing.length) {
        issues.push({
          pointer: pointer(at, 'resources'),
          message: `an instance of ${def.name} is written whole and needs its mandatory resources: add ${missing.map((r) => `${r.id} (${r.name})`).join(', ')}`,
        });
      }
    });
  }

  // Bootstrap-Delete
  (profile.delete ?? []).forEach((d, i) => {
    if (hasPlaceholder(d)) return;
    const at = pointer('/delete', i);
    let p: LwM2mPath;
    try {
      p = LwM2mPath.parse(d);
    } catch (e) {
      issues.push({ pointer: at, message: `"${d}" is not an LwM2M path: ${(e as Error).message}` });
      return;
    }
    if (p.objectId === 3 && p.instanceId === 0) issues.push({ pointer: at, message: 'the Device instance /3/0 cannot be deleted; the device keeps it' });
    if (p.objectId === 0 && p.instanceId !== undefined && p.instanceId === bsPinned) {
      issues.push({ pointer: at, message: `/0/${bsPinned} is the Bootstrap-Server account, which a Bootstrap-Delete may not remove` });
    }
  });
  return issues;
}

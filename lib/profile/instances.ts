/**
 * From the friendly parts of a profile (server accounts, the Bootstrap-Server account, ACL rows) to the
 * resource JSON of the Security, Server and Access Control instances they stand for. Validation and
 * planning both go through here, so a profile that validates plans without surprises.
 */
import { PROFILE_FORMAT_NAMES } from '../codec/formats';
import type {
  AccountCredentials,
  AclProfile,
  AclRightsJson,
  BootstrapAccountProfile,
  ContentFormatJson,
  ResourcesJson,
  SecurityModeJson,
  ServerAccountProfile,
} from './types';

export const SECURITY_MODES: Readonly<Record<string, number>> = Object.freeze({ psk: 0, rpk: 1, x509: 2, nosec: 3, est: 4 });
export const SECURITY_MODE_NAMES = ['psk', 'rpk', 'x509', 'nosec', 'est'] as const;

/** The Security Mode number 0..4, or undefined when `m` is neither a known name nor a number 0..4. */
export function securityModeNumber(m: SecurityModeJson | unknown): number | undefined {
  if (typeof m === 'number') return Number.isInteger(m) && m >= 0 && m <= 4 ? m : undefined;
  return typeof m === 'string' ? SECURITY_MODES[m] : undefined;
}

/** `contentFormat` names and their numbers (the content-format table's profile names, lib/codec/formats.ts). */
export const CONTENT_FORMAT_NAMES: Readonly<Record<string, number>> = PROFILE_FORMAT_NAMES;

/** The numeric content format, 'auto', or undefined when unknown. */
export function contentFormatSetting(cf: ContentFormatJson | unknown): number | 'auto' | undefined {
  if (cf === undefined || cf === 'auto') return 'auto';
  if (typeof cf === 'string') return CONTENT_FORMAT_NAMES[cf];
  if (typeof cf === 'number' && Object.values(CONTENT_FORMAT_NAMES).includes(cf)) return cf;
  return undefined;
}

/** Which credential fields each Security Mode uses. */
export const MODE_CREDENTIALS: Readonly<Record<number, readonly (keyof AccountCredentials)[]>> = Object.freeze({
  0: ['pskIdentity', 'pskKey'],
  1: ['publicKeyOrIdentity', 'serverPublicKey', 'secretKey'],
  2: ['publicKeyOrIdentity', 'serverPublicKey', 'secretKey'],
  3: [],
  4: ['serverPublicKey'],
});
export const CREDENTIAL_FIELDS: readonly (keyof AccountCredentials)[] = [
  'pskIdentity',
  'pskKey',
  'publicKeyOrIdentity',
  'serverPublicKey',
  'secretKey',
];

/** Security resources set through named fields; `security` extras may not repeat them. */
export const SECURITY_NAMED: Readonly<Record<number, string>> = Object.freeze({
  0: 'uri',
  1: 'bootstrap flag',
  2: 'securityMode',
  3: 'pskIdentity / publicKeyOrIdentity',
  4: 'serverPublicKey',
  5: 'pskKey / secretKey',
  10: 'shortServerId',
  11: 'clientHoldOffTime (Bootstrap-Server account only)',
  12: 'accountTimeout (Bootstrap-Server account only)',
  14: 'sni',
  16: 'ciphersuites',
});

/** Server resources set through named fields; `server` extras may not repeat them. */
export const SERVER_NAMED: Readonly<Record<number, string>> = Object.freeze({
  0: 'shortServerId',
  1: 'lifetime',
  2: 'defaultMinPeriod',
  3: 'defaultMaxPeriod',
  5: 'disableTimeout',
  6: 'notificationStoring',
  7: 'binding',
});

export const DEFAULT_LIFETIME = 300;
export const DEFAULT_BINDING = 'U';
export const DEFAULT_NOTIFICATION_STORING = true;
export const ACL_OWNER_BOOTSTRAP = 65535;

/** Resource JSON plus, per resource id, the profile field (relative JSON pointer) it came from. */
export interface BuiltInstance {
  resources: ResourcesJson;
  origin: Record<number, string>;
}

function put(b: BuiltInstance, rid: number, value: unknown, field: string): void {
  if (value === undefined) return;
  b.resources[String(rid)] = value;
  b.origin[rid] = field;
}

function securityCommon(acc: AccountCredentials & { uri: string }, bootstrap: boolean): BuiltInstance {
  const b: BuiltInstance = { resources: {}, origin: {} };
  for (const [k, v] of Object.entries(acc.security ?? {})) put(b, Number(k), v, `security/${k}`);
  const mode = securityModeNumber(acc.securityMode);
  put(b, 0, acc.uri, 'uri');
  put(b, 1, bootstrap, 'securityMode');
  put(b, 2, mode ?? acc.securityMode, 'securityMode');
  if (mode === 0) {
    put(b, 3, acc.pskIdentity ?? '', 'pskIdentity');
    put(b, 5, acc.pskKey ?? '', 'pskKey');
  } else {
    put(b, 3, acc.publicKeyOrIdentity ?? '', 'publicKeyOrIdentity');
    put(b, 5, acc.secretKey ?? '', 'secretKey');
  }
  put(b, 4, acc.serverPublicKey ?? '', 'serverPublicKey');
  put(b, 14, acc.sni, 'sni');
  put(b, 16, acc.ciphersuites, 'ciphersuites');
  return b;
}

/** The Security instance (object 0) of an LwM2M Server account: resources 0-5 and 10, plus options. */
export function serverSecurityInstance(acc: ServerAccountProfile): BuiltInstance {
  const b = securityCommon(acc, false);
  put(b, 10, acc.shortServerId, 'shortServerId');
  return b;
}

/** The Security instance of the Bootstrap-Server account: resources 0-5 (1 = true), plus 11, 12 and options. */
export function bootstrapSecurityInstance(acc: BootstrapAccountProfile): BuiltInstance {
  const b = securityCommon(acc, true);
  put(b, 11, acc.clientHoldOffTime, 'clientHoldOffTime');
  put(b, 12, acc.accountTimeout, 'accountTimeout');
  return b;
}

/** The Server instance (object 1) of an account: resources 0, 1, 6, 7 plus the optional periods and extras. */
export function serverInstance(acc: ServerAccountProfile): BuiltInstance {
  const b: BuiltInstance = { resources: {}, origin: {} };
  for (const [k, v] of Object.entries(acc.server ?? {})) put(b, Number(k), v, `server/${k}`);
  put(b, 0, acc.shortServerId, 'shortServerId');
  put(b, 1, acc.lifetime ?? DEFAULT_LIFETIME, 'lifetime');
  put(b, 2, acc.defaultMinPeriod, 'defaultMinPeriod');
  put(b, 3, acc.defaultMaxPeriod, 'defaultMaxPeriod');
  put(b, 5, acc.disableTimeout, 'disableTimeout');
  put(b, 6, acc.notificationStoring ?? DEFAULT_NOTIFICATION_STORING, 'notificationStoring');
  put(b, 7, acc.binding ?? DEFAULT_BINDING, 'binding');
  return b;
}

const RIGHT_BITS: Record<string, number> = { R: 1, W: 2, E: 4, D: 8, C: 16 };

/** ACL rights as a bitmask: numbers pass, letters "RWEDC" add up; anything else is returned unchanged. */
export function aclRights(r: AclRightsJson): unknown {
  if (typeof r === 'string' && /^[RWEDC]*$/.test(r)) {
    return [...new Set(r)].reduce((sum, c) => sum + RIGHT_BITS[c], 0);
  }
  return r;
}

/** The Access Control instance (object 2) of an ACL row. */
export function aclInstance(acl: AclProfile): BuiltInstance {
  const b: BuiltInstance = { resources: {}, origin: {} };
  put(b, 0, acl.objectId, 'objectId');
  put(b, 1, acl.objectInstanceId, 'objectInstanceId');
  const rights: Record<string, unknown> = {};
  for (const [ssid, r] of Object.entries(acl.rights ?? {})) rights[ssid] = aclRights(r);
  put(b, 2, rights, 'rights');
  put(b, 3, acl.owner ?? ACL_OWNER_BOOTSTRAP, 'owner');
  return b;
}

/** The default Bootstrap-Delete list: old server accounts, plus ACLs when the profile writes ACLs. */
export function defaultDeletes(hasAcl: boolean): string[] {
  return hasAcl ? ['/0', '/1', '/2'] : ['/0', '/1'];
}

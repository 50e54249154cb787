/**
 * The client-sim node's editor fields turned into checked settings. Every field is a string so that it may
 * be `${NAME}` (Node-RED fills it from the environment); the bootstrap server URI may also hold `${NAME}`
 * inside the text (`coap://127.0.0.1:${BS_PORT}`), which this file expands.
 */
import * as path from 'path';
import type { SimSettings } from '../shared/client';
import { isUnset, intOr, stringOr } from '../shared/env';

export interface ClientSimDef {
  mode: string;
  endpoint: string;
  count: string;
  first: string;
  concurrency: string;
  bsUri: string;
  pskIdentity: string;
  deviceFile: string;
  factoryFile?: string;
  version: string;
  formats: string;
  noSecOnly: boolean | string;
  autoStart: boolean | string;
  holdOff: string;
  startJitter: string;
  requestTimeout: string;
  maxAttempts: string;
  persist: boolean | string;
  storeDir: string;
  summaryInterval: string;
  dropRate: string;
  delayRate: string;
  delayMs: string;
  responseDelay: string;
  rejectFormats: string;
  rejectFinish: boolean | string;
  vanishAfter: string;
  wrongPsk: boolean | string;
}


/** A bad field: `key` names the translated message (errors.<key>), `field` the editor field. */
export class SettingsError extends Error {
  constructor(
    readonly key: string,
    readonly field: string,
  ) {
    super(`${field}: ${key}`);
  }
}

const VERSIONS = ['1.0', '1.1', '1.2'] as const;
export const DEFAULT_BS_URI = 'coap://127.0.0.1:5683';

function bool(v: unknown, def: boolean): boolean {
  if (v === undefined || v === null || v === '') return def;
  return v === true || v === 'true';
}

/**
 * Expands `${NAME}` inside a text with `lookup`. An unset variable used as a URI port (`:${BS_PORT}`) is
 * dropped so that the scheme's default port applies; any other unset variable is an error.
 */
export function expandEnvText(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/(:?)\$\{(\w+)\}/g, (_m, colon: string, name: string) => {
    const v = lookup(name);
    if (v !== undefined && v !== '') return colon + v;
    if (colon) return '';
    throw new SettingsError('unsetVariable', name);
  });
}

function num(v: unknown, def: number, min: number, max: number, key: string, field: string): number {
  if (isUnset(v)) return def;
  const s = String(v).trim();
  if (!/^\d+(\.\d+)?$/.test(s)) throw new SettingsError(key, field);
  const n = Number(s);
  if (n < min || n > max) throw new SettingsError(key, field);
  return n;
}

function int(v: unknown, def: number, min: number, max: number, key: string, field: string): number {
  const n = intOr(v, def, min, max);
  if (n === undefined) throw new SettingsError(key, field);
  return n;
}

export function parseFormats(v: unknown): number[] | undefined {
  if (isUnset(v)) return undefined;
  const parts = String(v).split(/[\s,;]+/).filter(Boolean);
  const out = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (out.some((n) => !Number.isInteger(n) || n > 65535)) throw new SettingsError('badFormats', 'formats');
  return out.length ? out : undefined;
}

/** Settings from the editor fields; throws SettingsError naming the first bad field. */
export function readSettings(
  c: Partial<ClientSimDef>,
  env: (name: string) => string | undefined,
  defaultStoreDir: string | undefined,
  userDir: string | undefined,
): SimSettings {
  const mode = c.mode === 'fleet' ? 'fleet' : 'single';
  const endpoint = stringOr(c.endpoint, mode === 'fleet' ? 'sim-{n}' : 'sim-device');
  const deviceFile = isUnset(c.deviceFile) ? '' : String(c.deviceFile).trim();
  if (mode === 'fleet' && !deviceFile && !/\{n(:\d+)?\}/.test(endpoint)) throw new SettingsError('badPattern', 'endpoint');
  if (mode === 'single' && /\{n(:\d+)?\}/.test(endpoint)) throw new SettingsError('patternInSingle', 'endpoint');
  const factoryFile = isUnset(c.factoryFile) ? '' : String(c.factoryFile).trim();
  if (factoryFile && mode === 'fleet') throw new SettingsError('factoryFleet', 'factoryFile');
  if (factoryFile && !/\.(senml\.cbor|senml\.json|lwm2m\.cbor)$/i.test(factoryFile)) throw new SettingsError('badFactoryFile', 'factoryFile');
  const version = stringOr(c.version, '1.1');
  if (!(VERSIONS as readonly string[]).includes(version)) throw new SettingsError('badVersion', 'version');
  const bsUri = expandEnvText(stringOr(c.bsUri, DEFAULT_BS_URI), env);
  if (!/^coaps?:\/\/[^/\s]+/.test(bsUri)) throw new SettingsError('badUri', 'bsUri');
  const noSecOnly = bool(c.noSecOnly, false);
  // Firmware without security support cannot reach a coaps:// Bootstrap-Server.
  if (noSecOnly && /^coaps:/i.test(bsUri)) throw new SettingsError('noSecOnlyCoaps', 'noSecOnly');
  const persist = bool(c.persist, true);
  let storeDir: string | undefined;
  if (persist) {
    const custom = isUnset(c.storeDir) ? '' : String(c.storeDir).trim();
    storeDir = custom ? path.resolve(userDir ?? process.cwd(), custom) : defaultStoreDir;
  }
  const vanish = isUnset(c.vanishAfter) ? undefined : int(c.vanishAfter, 0, 0, 1000, 'badVanish', 'vanishAfter');
  const rejectFormats = parseFormats(c.rejectFormats);
  const faults: SimSettings['faults'] = {};
  const drop = num(c.dropRate, 0, 0, 100, 'badPercent', 'dropRate');
  const delay = num(c.delayRate, 0, 0, 100, 'badPercent', 'delayRate');
  if (drop > 0) faults.dropRate = drop / 100;
  if (delay > 0) faults.delayRate = delay / 100;
  const delayMs = int(c.delayMs, 0, 0, 600000, 'badMs', 'delayMs');
  if (delayMs > 0) faults.delayMs = delayMs;
  const responseDelay = int(c.responseDelay, 0, 0, 600000, 'badMs', 'responseDelay');
  if (responseDelay > 0) faults.responseDelayMs = responseDelay;
  if (rejectFormats) faults.rejectFormats = rejectFormats;
  if (bool(c.rejectFinish, false)) faults.rejectFinish = true;
  if (vanish !== undefined) faults.vanishAfter = vanish;
  if (bool(c.wrongPsk, false)) faults.wrongPsk = true;
  return {
    mode,
    endpoint,
    count: mode === 'fleet' ? int(c.count, 10, 1, 5000, 'badCount', 'count') : 1,
    first: int(c.first, 1, 0, 1e9, 'badFirst', 'first'),
    concurrency: int(c.concurrency, 50, 1, 5000, 'badConcurrency', 'concurrency'),
    bsUri,
    pskIdentity: isUnset(c.pskIdentity) ? '' : String(c.pskIdentity).trim(),
    deviceFile: deviceFile ? path.resolve(userDir ?? process.cwd(), deviceFile) : '',
    factoryFile: factoryFile ? path.resolve(userDir ?? process.cwd(), factoryFile) : '',
    version: version as SimSettings['version'],
    formats: parseFormats(c.formats),
    noSecOnly,
    autoStart: bool(c.autoStart, true),
    holdOffMs: Math.round(num(c.holdOff, 1, 0, 3600, 'badSeconds', 'holdOff') * 1000),
    startJitterMs: Math.round(num(c.startJitter, 0, 0, 3600, 'badSeconds', 'startJitter') * 1000),
    requestTimeoutMs: Math.round(num(c.requestTimeout, 30, 1, 600, 'badSeconds', 'requestTimeout') * 1000),
    maxAttempts: int(c.maxAttempts, 0, 0, 1000, 'badAttempts', 'maxAttempts'),
    storeDir,
    summaryIntervalMs: Math.round(num(c.summaryInterval, 5, 0.1, 3600, 'badSeconds', 'summaryInterval') * 1000),
    faults,
  };
}

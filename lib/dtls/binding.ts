/**
 * Loading the native addon (native/*.c, built by node-gyp, loaded by node-gyp-build from prebuilds/ or
 * build/Release). Never throws: when the addon cannot load, `loadDtls()` says exactly why, and plain CoAP
 * keeps working.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Opaque handles owned by the addon. */
export type NativeContext = { readonly __nativeContext: unique symbol };
export type NativePeer = { readonly __nativePeer: unique symbol };

/** What every addon call gives the engine (native/peer.c returns it as an array; see toResult). */
export interface NativeResult {
  out: Buffer[];
  data: Buffer[];
  connected: boolean;
  closed: boolean;
  timeout: number;
  error?: string;
  alertSent?: string;
  alertReceived?: string;
  peer?: NativePeer;
}

export interface NativeContextOptions {
  ciphers: string;
  mtu: number;
  cookieRotateMs: number;
  securityLevel?: number;
  psk?: (identity: Buffer) => Buffer | undefined;
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
  requireClientCert?: boolean;
  rpk?: (spki: Buffer) => boolean;
  /** Shared cookie secret (16-1024 bytes); see DtlsServerOptions.cookieSecret. */
  cookieSecret?: Buffer;
}

export interface NativePeerInfo {
  version?: string;
  cipher?: string;
  cipherStandardName?: string;
  pskIdentity?: Buffer;
  cert?: { subject: string; cn?: string; san: string[] };
  /** The client's raw public key (SubjectPublicKeyInfo DER), when one was negotiated. */
  rpk?: Buffer;
}

export interface DtlsBinding {
  createContext(opts: NativeContextOptions): NativeContext;
  rotateCookieSecret(ctx: NativeContext): void;
  listen(ctx: NativeContext, addressKey: Buffer, datagram: Buffer): NativeResult;
  feed(peer: NativePeer, datagram: Buffer): NativeResult;
  write(peer: NativePeer, data: Buffer): NativeResult;
  handleTimeout(peer: NativePeer): NativeResult;
  shutdown(peer: NativePeer): NativeResult;
  free(peer: NativePeer): void;
  peerInfo(peer: NativePeer): NativePeerInfo;
  opensslVersion(): string;
  cipherAvailable(name: string): boolean;
  /** True when this process's OpenSSL has RFC 7250 (3.2+). Absent in addon builds older than RPK support. */
  rpkAvailable?(): boolean;
  /** True when createContext takes cookieSecret. Absent in addon builds older than it (they would ignore it). */
  sharedCookieSecret?(): boolean;
}

const NO_BUFFERS: Buffer[] = [];
Object.freeze(NO_BUFFERS);

/**
 * The addon's result array (native/peer.c: [out, data, flags, timeout, error, alertSent, alertReceived, peer]) as
 * a NativeResult. Addon builds before that array (an older prebuild) return the object itself, which passes.
 */
export function toResult(r: unknown): NativeResult {
  if (!Array.isArray(r)) return r as NativeResult;
  const flags = r[2] as number;
  const res: NativeResult = {
    out: (r[0] as Buffer[] | undefined) ?? NO_BUFFERS,
    data: (r[1] as Buffer[] | undefined) ?? NO_BUFFERS,
    connected: (flags & 1) !== 0,
    closed: (flags & 2) !== 0,
    timeout: r[3] as number,
  };
  if (r.length > 4) {
    if (r[4] !== undefined) res.error = r[4] as string;
    if (r[5] !== undefined) res.alertSent = r[5] as string;
    if (r[6] !== undefined) res.alertReceived = r[6] as string;
    if (r[7] !== undefined) res.peer = r[7] as NativePeer;
  }
  return res;
}

/** The addon's exports with the calls that return a result wrapped by toResult. */
function adapt(raw: DtlsBinding): DtlsBinding {
  const b = raw as unknown as Record<string, (...a: unknown[]) => unknown>;
  return {
    ...raw,
    createContext: (o) => raw.createContext(o),
    rotateCookieSecret: (c) => raw.rotateCookieSecret(c),
    listen: (c, k, d) => toResult(b.listen(c, k, d)),
    feed: (p, d) => toResult(b.feed(p, d)),
    write: (p, d) => toResult(b.write(p, d)),
    handleTimeout: (p) => toResult(b.handleTimeout(p)),
    shutdown: (p) => toResult(b.shutdown(p)),
    free: (p) => raw.free(p),
    peerInfo: (p) => raw.peerInfo(p),
  };
}

export type DtlsLoadResult = { ok: true; binding: DtlsBinding } | { ok: false; reason: string };

const REQUIRED: (keyof DtlsBinding)[] = ['createContext', 'listen', 'feed', 'write', 'handleTimeout', 'shutdown', 'free', 'peerInfo'];

const PACKAGE_NAME = 'node-red-contrib-lwm2m-bootstrap';

/** The package root: the nearest folder above this file whose package.json is ours (source tree or installed). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return dir;
    } catch {
      // no package.json here: keep going up
    }
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..', '..');
    dir = up;
  }
}

let cached: DtlsLoadResult | undefined;

/**
 * Loads the addon once. `dir` (for tests and tools) loads from another folder and is not cached.
 * Set LWM2M_DTLS_DISABLE=1 to run without DTLS; LWM2M_DTLS_ADDON_DIR loads the addon from another
 * package folder (scripts/dtls-asan.sh uses it for a sanitizer build).
 */
export function loadDtls(dir?: string): DtlsLoadResult {
  if (dir === undefined && cached) return cached;
  const result = tryLoad(dir ?? process.env.LWM2M_DTLS_ADDON_DIR ?? packageRoot());
  if (dir === undefined) cached = result;
  return result;
}

function tryLoad(dir: string): DtlsLoadResult {
  if (process.env.LWM2M_DTLS_DISABLE === '1') return { ok: false, reason: 'disabled by LWM2M_DTLS_DISABLE=1' };
  if (!process.versions.openssl) {
    return { ok: false, reason: 'this Node.js has no OpenSSL (process.versions.openssl is empty); the addon needs its symbols' };
  }
  let binding: DtlsBinding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (root: string) => unknown;
    binding = load(dir) as DtlsBinding;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `cannot load the DTLS addon from ${dir}: ${msg.split('\n')[0]}` };
  }
  const missing = REQUIRED.filter((k) => typeof binding[k] !== 'function');
  if (missing.length > 0) return { ok: false, reason: `the DTLS addon lacks ${missing.join(', ')}` };
  return { ok: true, binding: adapt(binding) };
}

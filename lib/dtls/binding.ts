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

/** What every addon call gives the engine (native/peer.c returns it as an array, see toResult, or in the io area, see IoArea). */
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
  /** Hands the addon the io area (see IoArea) of layout IO_LAYOUT. Absent in addon builds older than it (arrays only). */
  setIo?(area: ArrayBuffer, layout: number): void;
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

/**
 * The io area (native/dtls.h): a call whose result fits writes it here and returns undefined (listen with a new
 * peer: the peer), instead of an array holding a new Buffer per datagram and the texts (that marshalling cost more
 * than the record's cryptography). Int32 words [flags, timeout, datagrams out, data records, error, alert sent and
 * alert received lengths, 0, length of each item], then the items' bytes from IO_HEADER, then the texts. Every
 * call overwrites it, so IoArea.read copies it all out before anything else runs: nothing handed on ever points
 * into it. IO_LAYOUT goes to the addon with the area; an addon that writes another layout refuses it.
 */
export const IO_LAYOUT = 2;
export const IO_WORDS = 8;
export const IO_ITEMS = 60;
export const IO_HEADER = (IO_WORDS + IO_ITEMS) * 4;
const IO_BYTES = IO_HEADER + 65536;

/** The io area of one loaded addon, and how its results are read out. */
export class IoArea {
  readonly area = new ArrayBuffer(IO_BYTES);
  private readonly words = new Int32Array(this.area, 0, IO_HEADER / 4);
  private readonly bytes = Buffer.from(this.area);

  /** The result the last call left in the area, each datagram and record copied into a Buffer of its own. */
  read(): NativeResult {
    const w = this.words;
    const flags = w[0];
    const nOut = w[2];
    const nData = w[3];
    let at = IO_HEADER;
    let out = NO_BUFFERS;
    let data = NO_BUFFERS;
    if (nOut > 0) {
      out = new Array<Buffer>(nOut);
      for (let i = 0; i < nOut; i++) {
        const len = w[IO_WORDS + i];
        out[i] = this.copy(at, len);
        at += len;
      }
    }
    if (nData > 0) {
      data = new Array<Buffer>(nData);
      for (let i = 0; i < nData; i++) {
        const len = w[IO_WORDS + nOut + i];
        data[i] = this.copy(at, len);
        at += len;
      }
    }
    const res: NativeResult = { out, data, connected: (flags & 1) !== 0, closed: (flags & 2) !== 0, timeout: w[1] };
    if (w[4] > 0) res.error = this.bytes.toString('utf8', at, (at += w[4]));
    if (w[5] > 0) res.alertSent = this.bytes.toString('utf8', at, (at += w[5]));
    if (w[6] > 0) res.alertReceived = this.bytes.toString('utf8', at, (at += w[6]));
    return res;
  }

  private copy(at: number, len: number): Buffer {
    const b = Buffer.allocUnsafe(len);
    this.bytes.copy(b, 0, at, at + len);
    return b;
  }
}

const IO_AREA = Symbol.for('node-red-contrib-lwm2m-bootstrap.dtls.io');

/**
 * The addon's one io area. The addon holds one per loaded instance (per thread), so every adapter over the same
 * exports (loadDtls(dir) again, another copy of this module) must read the same area: it hangs on the exports.
 */
function ioAreaOf(raw: DtlsBinding): IoArea | undefined {
  if (typeof raw.setIo !== 'function') return undefined;
  const holder = raw as unknown as { [IO_AREA]?: IoArea };
  let io = holder[IO_AREA];
  if (!io) {
    const area = new IoArea();
    try {
      raw.setIo(area.area, IO_LAYOUT);
    } catch {
      return undefined; // an addon built for another layout: its results come as arrays
    }
    io = area;
    Object.defineProperty(holder, IO_AREA, { value: io });
  }
  return io;
}

function withPeer(res: NativeResult, peer: unknown): NativeResult {
  res.peer = peer as NativePeer;
  return res;
}

/** The addon's exports with the calls that return a result wrapped by toResult, or read from the io area. */
function adapt(raw: DtlsBinding): DtlsBinding {
  const b = raw as unknown as Record<string, (...a: unknown[]) => unknown>;
  const io = ioAreaOf(raw);
  const res = io ? (r: unknown): NativeResult => (r === undefined ? io.read() : Array.isArray(r) ? toResult(r) : withPeer(io.read(), r)) : toResult;
  const { setIo: _owned, ...rest } = raw; // the area is this adapter's: nobody else may swap it
  return {
    ...rest,
    createContext: (o) => raw.createContext(o),
    rotateCookieSecret: (c) => raw.rotateCookieSecret(c),
    listen: (c, k, d) => res(b.listen(c, k, d)),
    feed: (p, d) => res(b.feed(p, d)),
    write: (p, d) => res(b.write(p, d)),
    handleTimeout: (p) => res(b.handleTimeout(p)),
    shutdown: (p) => res(b.shutdown(p)),
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

/**
 * The PROXY protocol in front of a UDP Bootstrap-Server (issue 16): behind a load balancer every datagram
 * comes from the balancer, so sessions, per-source limits and the audit would name the balancer, not the
 * device. HAProxy's "The PROXY protocol" (versions 1 and 2, haproxy.org/download/2.9/doc/proxy-protocol.txt)
 * lets the balancer put the device's address in front of the payload.
 *
 * nginx's UDP stream proxy (`proxy_protocol on;`, tested with nginx 1.22) sends a version 1 text header,
 * "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (TCP4 even for UDP), in front of the FIRST datagram of each of
 * its UDP sessions only; it keeps one upstream socket (source port) per device session, so the datagrams
 * after the first come without a header from that same balancer address:port. So this module keeps a table
 * from the balancer's upstream address:port to the device's address:port, learnt from each header and
 * forgotten after `idleMs` without traffic, and rewrites:
 *   inbound:  datagram + rinfo(balancer) -> payload + rinfo(device)   (the server sees the device)
 *   outbound: send(to device)            -> send(to balancer upstream) (replies still go through the balancer)
 *
 * Only sources in `from` may send a header: from anyone else a datagram is passed on untouched (a header there
 * is just a malformed datagram to the CoAP or DTLS layer) and counted as `untrusted`. A malformed header from a
 * balancer drops the datagram (counted); nothing here throws on input.
 */
import type * as dgram from 'dgram';
import { EventEmitter } from 'events';
import { isIP } from 'net';
import type { AddressInfo } from 'net';
import type { DatagramSocket, PeerInfo } from './message';

export interface ProxySource {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** A header that starts like one (the v1 "PROXY " or the v2 signature) but breaks the format. */
export class ProxyHeaderError extends Error {}

export interface ProxyHeader {
  /** Bytes of the header (the payload follows). */
  length: number;
  /** The original source; undefined for v2 LOCAL, v1 UNKNOWN and address families without one (UNIX). */
  source: ProxySource | undefined;
  version: 1 | 2;
}

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Version 2's 12-byte signature (proxy-protocol.txt section 2.2). */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Longest v1 line, CRLF included (section 2.1). */
const V1_MAX = 107;

/** True when `buf` starts with a PROXY header's signature (of either version). */
export function looksLikeProxyHeader(buf: Buffer): boolean {
  return startsWith(buf, V1_PREFIX) || startsWith(buf, V2_SIGNATURE);
}

/** Parses the header at the start of `buf`: undefined when there is none, ProxyHeaderError when it is malformed. */
export function parseProxyHeader(buf: Buffer): ProxyHeader | undefined {
  if (startsWith(buf, V1_PREFIX)) return parseV1(buf);
  if (startsWith(buf, V2_SIGNATURE)) return parseV2(buf);
  return undefined;
}

function startsWith(buf: Buffer, sig: Buffer): boolean {
  return buf.length >= sig.length && buf.compare(sig, 0, sig.length, 0, sig.length) === 0;
}

function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.subarray(0, V1_MAX).indexOf('\r\n', 0, 'latin1');
  if (end < 0) throw new ProxyHeaderError(`PROXY v1 header without CRLF in its first ${V1_MAX} bytes`);
  const line = buf.toString('latin1', 0, end);
  if (!/^[\x20-\x7e]*$/.test(line)) throw new ProxyHeaderError('PROXY v1 header with a control or non-ASCII byte');
  const f = line.split(' ');
  const length = end + 2;
  if (f[1] === 'UNKNOWN') return { length, source: undefined, version: 1 };
  if (f.length !== 6) throw new ProxyHeaderError(`PROXY v1 header with ${f.length} fields, 6 expected`);
  const [, proto, src, dst, sport, dport] = f;
  const ver = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (!ver) throw new ProxyHeaderError(`PROXY v1 protocol "${proto.slice(0, 8)}" is neither TCP4, TCP6 nor UNKNOWN`);
  if (isIP(src) !== ver || isIP(dst) !== ver) throw new ProxyHeaderError(`PROXY v1 ${proto} header with an address that is not IPv${ver}`);
  const port = v1Port(sport);
  if (port === undefined || v1Port(dport) === undefined) throw new ProxyHeaderError('PROXY v1 header with a bad port');
  return { length, source: { address: src, port, family: ver === 4 ? 'IPv4' : 'IPv6' }, version: 1 };
}

function v1Port(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function parseV2(buf: Buffer): ProxyHeader {
  if (buf.length < 16) throw new ProxyHeaderError('PROXY v2 header shorter than 16 bytes');
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) throw new ProxyHeaderError(`PROXY v2 header with version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) throw new ProxyHeaderError(`PROXY v2 header with command ${cmd}`);
  const fam = buf[13] >> 4;
  const len = buf.readUInt16BE(14);
  const length = 16 + len;
  if (buf.length < length) throw new ProxyHeaderError(`PROXY v2 header says ${len} address bytes, the datagram has ${buf.length - 16}`);
  if (cmd === 0) return { length, source: undefined, version: 2 }; // LOCAL: the balancer's own traffic
  if (fam === 1) {
    if (len < 12) throw new ProxyHeaderError('PROXY v2 INET header shorter than 12 address bytes');
    const a = buf.subarray(16, 20).join('.');
    return { length, source: { address: a, port: buf.readUInt16BE(24), family: 'IPv4' }, version: 2 };
  }
  if (fam === 2) {
    if (len < 36) throw new ProxyHeaderError('PROXY v2 INET6 header shorter than 36 address bytes');
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(16 + 2 * i).toString(16));
    return { length, source: { address: compactIPv6(groups), port: buf.readUInt16BE(48), family: 'IPv6' }, version: 2 };
  }
  return { length, source: undefined, version: 2 }; // UNSPEC or UNIX: no address to use
}

/** "0:0:0:0:0:0:0:1" -> "::1" (the longest run of zero groups, as Node prints addresses). */
function compactIPv6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** An IPv4-mapped IPv6 address ("::ffff:127.0.0.1", a dual-stack socket's view) as plain IPv4. */
function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

export interface ProxyProtocolOptions {
  /** Balancer addresses allowed to send a header (IPv4 or IPv6, exact). */
  from: string[];
  /** A mapping without traffic for this long is forgotten, ms (default 300,000: above nginx's proxy_timeout). */
  idleMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ProxyProtocolStats {
  /** Headers accepted from a balancer. */
  headers: number;
  /** Datagrams from a balancer with a malformed header: dropped. */
  malformed: number;
  /** Datagrams that carry a header but come from an address not in `from`: passed on untouched. */
  untrusted: number;
  /** Datagrams from a balancer without a header and without a known mapping: passed on as the balancer's. */
  unmapped: number;
  /** Mappings (balancer upstream socket -> device) held now. */
  mappings: number;
}

interface Mapping {
  upstream: string;
  upAddress: string;
  upPort: number;
  source: ProxySource;
  client: string;
  seen: number;
}

/** Raised for a `from` entry that is not an IP address. */
export class ProxyProtocolOptionError extends Error {}

/** The table and the rewriting; a transport (ProxyProtocolSocket for plain CoAP; lib/dtls takes it as DtlsServerOptions.datagrams) feeds it. */
export class ProxyAddressTable {
  private readonly trusted: Set<string>;
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly byUpstream = new Map<string, Mapping>();
  private readonly byClient = new Map<string, Mapping>();
  private readonly counts = { headers: 0, malformed: 0, untrusted: 0, unmapped: 0 };
  private lastSweep: number;

  constructor(opts: ProxyProtocolOptions) {
    for (const a of opts.from) {
      if (isIP(a) === 0) throw new ProxyProtocolOptionError(`PROXY protocol source "${String(a).slice(0, 60)}" is not an IP address`);
    }
    this.trusted = new Set(opts.from.map(plainAddress));
    this.idleMs = opts.idleMs ?? 300_000;
    if (!(this.idleMs > 0)) throw new ProxyProtocolOptionError(`PROXY protocol idle time must be > 0 ms, got ${this.idleMs}`);
    this.now = opts.now ?? Date.now;
    this.lastSweep = this.now();
  }

  stats(): ProxyProtocolStats {
    return { ...this.counts, mappings: this.byUpstream.size };
  }

  /** The datagram as the server should see it, or undefined to drop it. Never throws. */
  inbound(msg: Buffer, rinfo: PeerInfo): { msg: Buffer; rinfo: PeerInfo } | undefined {
    const now = this.now();
    if (now - this.lastSweep > this.idleMs / 4) this.sweep(now);
    if (!this.trusted.has(plainAddress(rinfo.address))) {
      if (looksLikeProxyHeader(msg)) this.counts.untrusted++;
      return { msg, rinfo };
    }
    const upstream = `${rinfo.address}|${rinfo.port}`;
    let header: ProxyHeader | undefined;
    try {
      header = parseProxyHeader(msg);
    } catch {
      this.counts.malformed++;
      return undefined;
    }
    if (header) {
      this.counts.headers++;
      const payload = msg.subarray(header.length);
      if (!header.source) return payload.length > 0 ? { msg: payload, rinfo } : undefined;
      const m = this.learn(upstream, rinfo, header.source, now);
      return payload.length > 0 ? { msg: payload, rinfo: this.rinfoOf(m, payload, rinfo) } : undefined;
    }
    const m = this.byUpstream.get(upstream);
    if (!m) {
      this.counts.unmapped++;
      return { msg, rinfo };
    }
    m.seen = now;
    return { msg, rinfo: this.rinfoOf(m, msg, rinfo) };
  }

  /** Where a datagram for `address:port` goes: the balancer's upstream socket of that device, else itself. */
  outbound(address: string, port: number): { address: string; port: number } {
    const m = this.byClient.get(`${address}|${port}`);
    if (!m) return { address, port };
    m.seen = this.now();
    return { address: m.upAddress, port: m.upPort };
  }

  /** Forgets mappings idle for idleMs. */
  sweep(now = this.now()): void {
    this.lastSweep = now;
    for (const m of this.byUpstream.values()) {
      if (now - m.seen >= this.idleMs) this.forget(m);
    }
  }

  clear(): void {
    this.byUpstream.clear();
    this.byClient.clear();
  }

  private learn(upstream: string, rinfo: PeerInfo, source: ProxySource, now: number): Mapping {
    const client = `${source.address}|${source.port}`;
    const old = this.byUpstream.get(upstream);
    if (old && old.client === client) {
      old.seen = now;
      return old;
    }
    if (old) this.forget(old);
    // The device behind a new balancer socket (the balancer's session had ended): replies use the new one.
    const prev = this.byClient.get(client);
    if (prev) this.forget(prev);
    const m: Mapping = { upstream, upAddress: rinfo.address, upPort: rinfo.port, source, client, seen: now };
    this.byUpstream.set(upstream, m);
    this.byClient.set(client, m);
    return m;
  }

  private forget(m: Mapping): void {
    if (this.byUpstream.get(m.upstream) === m) this.byUpstream.delete(m.upstream);
    if (this.byClient.get(m.client) === m) this.byClient.delete(m.client);
  }

  private rinfoOf(m: Mapping, msg: Buffer, rinfo: PeerInfo): PeerInfo {
    return { ...rinfo, address: m.source.address, port: m.source.port, family: m.source.family, size: msg.length };
  }
}

type SendCb = (err: Error | null, bytes?: number) => void;

/**
 * A UDP socket for BootstrapServer's `socket` option with the PROXY protocol in front: it owns `inner`,
 * shows the server the devices' addresses and sends their replies through the balancer.
 */
export class ProxyProtocolSocket extends EventEmitter implements DatagramSocket {
  readonly table: ProxyAddressTable;

  /** `type`: the inner socket's ('udp4' or 'udp6'); `recvBufferSize`: asked for after bind (0: the system's). */
  constructor(
    private readonly inner: dgram.Socket,
    readonly type: 'udp4' | 'udp6',
    opts: ProxyProtocolOptions,
    private readonly recvBufferSize = 0,
  ) {
    super();
    this.table = new ProxyAddressTable(opts);
    inner.on('message', (msg, rinfo) => {
      const x = this.table.inbound(msg, rinfo);
      if (x) this.emit('message', x.msg, x.rinfo);
    });
    inner.on('error', (err) => this.emit('error', err));
  }

  address(): AddressInfo {
    return this.inner.address();
  }

  bind(port: number, address: string, cb: () => void): this {
    this.inner.bind(port, address, () => {
      if (this.recvBufferSize > 0) {
        try {
          if (this.inner.getRecvBufferSize() < this.recvBufferSize) this.inner.setRecvBufferSize(this.recvBufferSize);
        } catch {
          // best effort, as BootstrapServer does for its own sockets
        }
      }
      cb();
    });
    return this;
  }

  send(buf: Buffer, offset: number, length: number, port: number, address: string, cb?: SendCb): void {
    const to = this.table.outbound(address, port);
    this.inner.send(buf, offset, length, to.port, to.address, cb);
  }

  close(cb?: () => void): this {
    this.table.clear();
    this.inner.close(cb);
    return this;
  }
}


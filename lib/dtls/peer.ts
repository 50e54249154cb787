/** One DTLS peer as the engine sees it, and how its identity is presented. */
import type { NativePeer, NativePeerInfo } from './binding';
import { logQuoted } from '../log-text';
import { rpkFingerprint } from './rpk';
import type { DtlsIdentity, DtlsPeerSummary, DtlsRemoteInfo } from './types';

export type PeerState = 'handshaking' | 'established' | 'closed';

export function peerKey(address: string, port: number): string {
  return `${address}|${port}`;
}

export class DtlsPeer {
  state: PeerState = 'handshaking';
  lastActivity: number;
  timer: NodeJS.Timeout | undefined;
  identity: DtlsIdentity | undefined;
  cipher = '';
  /** When the handshake first showed the client's identity (its ClientKeyExchange), for the wrong-key hint. */
  identityAt: number | undefined;
  /** The wrong-key warning was logged for this handshake (so the timeout does not log it again). */
  wrongKeyWarned = false;
  constructor(
    readonly key: string,
    readonly address: string,
    readonly port: number,
    readonly family: 'IPv4' | 'IPv6',
    readonly handle: NativePeer,
    readonly createdAt: number,
  ) {
    this.lastActivity = createdAt;
  }

  /** A method, not a field test: the state changes under callbacks that TypeScript's narrowing cannot see. */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  remoteInfo(size: number): DtlsRemoteInfo {
    const rinfo: DtlsRemoteInfo = { address: this.address, family: this.family, port: this.port, size, cipher: this.cipher };
    if (this.identity) rinfo.identity = this.identity;
    return rinfo;
  }

  summary(now: number): DtlsPeerSummary {
    const s: DtlsPeerSummary = {
      address: this.address,
      port: this.port,
      state: this.state === 'established' ? 'established' : 'handshaking',
      ageMs: now - this.createdAt,
      idleMs: now - this.lastActivity,
    };
    if (this.identity) s.identity = this.identity;
    if (this.cipher) s.cipher = this.cipher;
    return s;
  }
}

/** The identity as the PSK store receives it: text when the bytes are valid UTF-8, else the bytes. */
export function pskIdentityArg(raw: Buffer): string | Buffer {
  const text = raw.toString('utf8');
  return Buffer.from(text, 'utf8').equals(raw) ? text : raw;
}

export function identityOf(info: NativePeerInfo): DtlsIdentity | undefined {
  if (info.pskIdentity) {
    const arg = pskIdentityArg(info.pskIdentity);
    return typeof arg === 'string'
      ? { type: 'psk', id: arg, encoding: 'utf8' }
      : { type: 'psk', id: info.pskIdentity.toString('hex'), encoding: 'hex' };
  }
  if (info.rpk) return { type: 'rpk', id: rpkFingerprint(info.rpk), publicKey: info.rpk.toString('base64') };
  if (info.cert) {
    const { subject, cn, san } = info.cert;
    return { type: 'x509', id: cn ?? san[0] ?? subject, subject, san };
  }
  return undefined;
}

/** An identity for log lines: escaped and cut short (lib/log-text.ts), as any text a peer chose. */
export function describeIdentity(id: DtlsIdentity | undefined): string {
  if (!id) return 'no identity';
  if (id.type === 'psk') return `PSK identity ${logQuoted(id.id)}${id.encoding === 'hex' ? ' (hex)' : ''}`;
  return id.type === 'rpk' ? `raw public key sha256:${id.id}` : `certificate ${logQuoted(id.id)}`;
}

/** A DTLS record that carries a ClientHello (content type 22, DTLS version 0xfe.., handshake type 1). */
export function isClientHello(msg: Buffer): boolean {
  return msg.length >= 25 && msg[0] === 22 && msg[1] === 0xfe && msg[13] === 1;
}

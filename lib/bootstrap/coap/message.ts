/**
 * CoAP message helpers over node-coap's own codec (`coap-packet`): strict datagram parsing (what the
 * codec lets through but RFC 7252 forbids), option access, and the socket surface the endpoint needs.
 */
import type { AddressInfo } from 'net';
import { parse, generate, type ParsedPacket, type Packet } from 'coap-packet';

export type { ParsedPacket, Packet };

/** Remote address of a datagram. A DTLS socket-like adds the authenticated `identity` of the peer. */
export interface PeerInfo {
  address: string;
  port: number;
  family: string;
  size?: number;
  identity?: unknown;
}

/**
 * The dgram surface the bootstrap server uses: a `dgram.Socket`, or the DTLS socket-like object
 * (same methods; its `message` events carry `rinfo.identity`).
 */
export interface DatagramSocket {
  readonly type?: string;
  address(): AddressInfo | { address: string; port: number; family: string };
  send(
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    address: string,
    cb?: (err: Error | null, bytes?: number) => void,
  ): void;
  on(event: 'message', listener: (msg: Buffer, rinfo: PeerInfo) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'message', listener: (msg: Buffer, rinfo: PeerInfo) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  close?(cb?: () => void): unknown;
  /** Used by listen() when the socket passed in is not bound yet. */
  bind?(port: number, address: string, cb: () => void): unknown;
}

export class CoapFormatError extends Error {}

/** Parses a datagram; throws CoapFormatError for anything RFC 7252 §3 calls a message format error. */
export function parseDatagram(buf: Buffer): ParsedPacket {
  if (buf.length < 4) throw new CoapFormatError(`datagram of ${buf.length} bytes is shorter than a CoAP header`);
  const b0 = buf[0];
  if (b0 >> 6 !== 1) throw new CoapFormatError(`CoAP version ${b0 >> 6} is not 1`);
  const tkl = b0 & 0x0f;
  if (tkl > 8) throw new CoapFormatError(`token length ${tkl} is reserved`);
  if (buf.length < 4 + tkl) throw new CoapFormatError('datagram ends inside the token');
  if (buf[1] === 0 && buf.length !== 4) throw new CoapFormatError('Empty messages must be empty (4 bytes, no token)');
  checkOptions(buf, 4 + tkl);
  try {
    return parse(buf);
  } catch (err) {
    throw new CoapFormatError(err instanceof Error ? err.message : String(err));
  }
}

/** Walks the options as RFC 7252 §3.1 lays them out; coap-packet slices past the end without a word. */
function checkOptions(buf: Buffer, start: number): void {
  let i = start;
  while (i < buf.length) {
    const b = buf[i++];
    if (b === 0xff) {
      if (i === buf.length) throw new CoapFormatError('payload marker without payload');
      return;
    }
    let delta = b >> 4;
    let len = b & 0x0f;
    if (delta === 15) throw new CoapFormatError('option delta nibble 15 is reserved');
    if (len === 15) throw new CoapFormatError('option length nibble 15 is reserved');
    if (delta === 13) delta = byteAt(buf, i++) + 13;
    else if (delta === 14) {
      delta = ((byteAt(buf, i) << 8) | byteAt(buf, i + 1)) + 269;
      i += 2;
    }
    if (len === 13) len = byteAt(buf, i++) + 13;
    else if (len === 14) {
      len = ((byteAt(buf, i) << 8) | byteAt(buf, i + 1)) + 269;
      i += 2;
    }
    i += len;
    if (i > buf.length) throw new CoapFormatError('an option runs past the end of the datagram');
  }
}

function byteAt(buf: Buffer, i: number): number {
  if (i >= buf.length) throw new CoapFormatError('an option header runs past the end of the datagram');
  return buf[i];
}

const OPTION_NUMBERS: Record<string, number> = {
  'If-Match': 1,
  'Uri-Host': 3,
  ETag: 4,
  'If-None-Match': 5,
  Observe: 6,
  'Uri-Port': 7,
  'Location-Path': 8,
  OSCORE: 9,
  'Uri-Path': 11,
  'Content-Format': 12,
  'Max-Age': 14,
  'Uri-Query': 15,
  'Hop-Limit': 16,
  Accept: 17,
  'Q-Block1': 19,
  'Location-Query': 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  'Q-Block2': 31,
  'Proxy-Uri': 35,
  'Proxy-Scheme': 39,
  Size1: 60,
  'No-Response': 258,
  'OCF-Accept-Content-Format-Version': 2049,
  'OCF-Content-Format-Version': 2053,
};

export function optionNumber(name: string | number): number {
  if (typeof name === 'number') return name;
  return OPTION_NUMBERS[name] ?? Number(name);
}

/** Critical options (odd numbers) we understand in a request; any other critical option gets 4.02. */
const UNDERSTOOD_CRITICAL = new Set([3, 7, 11, 15, 17, 23]);

/** The first critical option of a request we do not understand, or undefined. */
export function unknownCriticalOption(p: ParsedPacket): number | undefined {
  for (const o of p.options) {
    const n = optionNumber(o.name);
    if (n % 2 === 1 && !UNDERSTOOD_CRITICAL.has(n)) return n;
  }
  return undefined;
}

export function optionValues(p: ParsedPacket, name: string): Buffer[] {
  const out: Buffer[] = [];
  for (const o of p.options) if (o.name === name) out.push(o.value);
  return out;
}

/** An unsigned-integer option (Content-Format, Accept), or undefined when absent or longer than 4 bytes. */
export function uintOption(p: ParsedPacket, name: string): number | undefined {
  for (const o of p.options) {
    if (o.name !== name) continue;
    if (o.value.length > 4) return undefined;
    let n = 0;
    for (const byte of o.value) n = n * 256 + byte;
    return n;
  }
  return undefined;
}

/** Minimal-length big-endian encoding of an unsigned option value (0 -> zero-length). */
export function uintBuffer(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  if (n < 0x100) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([n >> 8, n & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function uriPath(p: ParsedPacket): string[] {
  return optionValues(p, 'Uri-Path').map((b) => b.toString('utf8'));
}

export function uriQuery(p: ParsedPacket): string[] {
  return optionValues(p, 'Uri-Query').map((b) => b.toString('utf8'));
}

const RESPONSE_CODE = /^([245])\.(\d\d)$/;

/** True for "2.04", "4.00", "5.03" ...: a response class and a detail 0..31. */
export function isResponseCode(code: string): boolean {
  const m = RESPONSE_CODE.exec(code);
  return m !== null && Number(m[2]) <= 31;
}

export function codeClass(code: string): number {
  return code.charCodeAt(0) - 48;
}

/** `generate` with a size limit; throws the codec's Error when the message does not fit. */
export function generatePacket(packet: Packet, maxSize: number): Buffer {
  return generate(packet, maxSize);
}

export function emptyMessage(kind: 'ack' | 'reset', messageId: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = kind === 'ack' ? 0x60 : 0x70;
  b[1] = 0;
  b.writeUInt16BE(messageId, 2);
  return b;
}

/**
 * CoAP message helpers: strict datagram parsing (RFC 7252 §3; what node-coap's codec `coap-packet` parses, with
 * the format errors it lets through rejected), writing our messages (coap-packet for the rare other shapes),
 * option access, and the socket surface the endpoint needs.
 */
import type { AddressInfo } from 'net';
import { generate, type ParsedPacket, type Packet } from 'coap-packet';

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

/**
 * What scanDatagram() read from a datagram's header and options, filled in place (the endpoint keeps one and
 * reads it before anything else can scan): no object, token view or option array per datagram.
 */
export class DatagramScan {
  /** 0 Confirmable, 1 Non-confirmable, 2 Acknowledgement, 3 Reset (RFC 7252 §3). */
  type = 0;
  codeByte = 0;
  messageId = 0;
  tokenLength = 0;
  /** Where the payload starts (after the 0xFF marker), or the datagram's length when it has none. */
  payloadStart = 0;
  /** The first Content-Format, Block1 and Block2 option as an unsigned integer; -1 when absent or longer than 4 bytes. */
  contentFormat = -1;
  block1 = -1;
  block2 = -1;
}

/**
 * Checks a datagram as RFC 7252 §3 lays it out and fills `s`; throws CoapFormatError for anything the RFC
 * calls a message format error. One pass over the bytes, nothing allocated unless it throws.
 */
export function scanDatagram(buf: Buffer, s: DatagramScan): void {
  const n = buf.length;
  if (n < 4) throw new CoapFormatError(`datagram of ${n} bytes is shorter than a CoAP header`);
  const b0 = buf[0];
  if (b0 >> 6 !== 1) throw new CoapFormatError(`CoAP version ${b0 >> 6} is not 1`);
  const tkl = b0 & 0x0f;
  if (tkl > 8) throw new CoapFormatError(`token length ${tkl} is reserved`);
  if (n < 4 + tkl) throw new CoapFormatError('datagram ends inside the token');
  if (buf[1] === 0 && n !== 4) throw new CoapFormatError('Empty messages must be empty (4 bytes, no token)');
  let contentFormat = -1;
  let block1 = -1;
  let block2 = -1;
  let seen = 0; // bit 0 Content-Format, 1 Block1, 2 Block2: the first of each counts (as uintOption reads it)
  let number = 0;
  let payloadStart = n;
  let i = 4 + tkl;
  while (i < n) {
    const b = buf[i++];
    if (b === 0xff) {
      if (i === n) throw new CoapFormatError('payload marker without payload');
      payloadStart = i;
      break;
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
    if (i + len > n) throw new CoapFormatError('an option runs past the end of the datagram');
    number += delta;
    if (number === 12 || number === 23 || number === 27) {
      const bit = number === 12 ? 1 : number === 27 ? 2 : 4;
      if ((seen & bit) === 0) {
        seen |= bit;
        const v = len > 4 ? -1 : uintAt(buf, i, len);
        if (bit === 1) contentFormat = v;
        else if (bit === 2) block1 = v;
        else block2 = v;
      }
    }
    i += len;
  }
  s.type = (b0 >> 4) & 0x03;
  s.codeByte = buf[1];
  s.messageId = (buf[2] << 8) | buf[3];
  s.tokenLength = tkl;
  s.payloadStart = payloadStart;
  s.contentFormat = contentFormat;
  s.block1 = block1;
  s.block2 = block2;
}

function uintAt(buf: Buffer, i: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) v = v * 256 + buf[i + k];
  return v;
}

function byteAt(buf: Buffer, i: number): number {
  if (i >= buf.length) throw new CoapFormatError('an option header runs past the end of the datagram');
  return buf[i];
}

/** "c.dd" for every code byte, as coap-packet spells a code (made once, so no string is built per datagram). */
const CODE_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const d = b & 0x1f;
  return String.fromCharCode(48 + (b >> 5), 46, 48 + Math.floor(d / 10), 48 + (d % 10));
});

/** The code of a code byte as a string ("2.05"). */
export function codeString(codeByte: number): string {
  return CODE_STRINGS[codeByte & 0xff];
}

const EMPTY_PAYLOAD = Buffer.alloc(0);

/** The payload of a scanned datagram (a view of it; one shared empty Buffer when there is none). */
export function payloadOf(buf: Buffer, s: DatagramScan): Buffer {
  return s.payloadStart < buf.length ? buf.subarray(s.payloadStart) : EMPTY_PAYLOAD;
}

/**
 * The scanned datagram as coap-packet's parse() returns it (code string, flags, token and payload views, the
 * options with coap-packet's names): what a request handler reads.
 */
export function packetOf(buf: Buffer, s: DatagramScan): ParsedPacket {
  const tkl = s.tokenLength;
  const options: ParsedPacket['options'] = [];
  if (s.codeByte !== 0) {
    let number = 0;
    let i = 4 + tkl;
    const end = s.payloadStart < buf.length ? s.payloadStart - 1 : buf.length;
    while (i < end) {
      const b = buf[i++];
      let delta = b >> 4;
      let len = b & 0x0f;
      if (delta === 13) delta = buf[i++] + 13;
      else if (delta === 14) {
        delta = ((buf[i] << 8) | buf[i + 1]) + 269;
        i += 2;
      }
      if (len === 13) len = buf[i++] + 13;
      else if (len === 14) {
        len = ((buf[i] << 8) | buf[i + 1]) + 269;
        i += 2;
      }
      number += delta;
      options.push({ name: optionName(number), value: buf.subarray(i, i + len) });
      i += len;
    }
  }
  return {
    code: CODE_STRINGS[s.codeByte],
    confirmable: s.type === 0,
    reset: s.type === 3,
    ack: s.type === 2,
    messageId: s.messageId,
    token: buf.subarray(4, 4 + tkl),
    options,
    payload: payloadOf(buf, s),
  };
}

/** Parses a datagram; throws CoapFormatError for anything RFC 7252 §3 calls a message format error. */
export function parseDatagram(buf: Buffer): ParsedPacket {
  const s = new DatagramScan();
  scanDatagram(buf, s);
  return packetOf(buf, s);
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

/** coap-packet's name of an option number: its registered name, else the number as a string. */
const OPTION_NAMES: string[] = [];
for (const [name, n] of Object.entries(OPTION_NUMBERS)) OPTION_NAMES[n] = name;

type OptionName = ParsedPacket['options'][number]['name'];

function optionName(n: number): OptionName {
  return ((n < OPTION_NAMES.length ? OPTION_NAMES[n] : undefined) ?? String(n)) as OptionName;
}

export function optionNumber(name: string | number): number {
  if (typeof name === 'number') return name;
  // The names our requests and responses carry, compared before the table lookup (a keyed lookup per option).
  if (name === 'Uri-Path') return 11;
  if (name === 'Content-Format') return 12;
  if (name === 'Accept') return 17;
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

const NO_BYTES = Buffer.alloc(0);

/**
 * `generate` with a size limit; throws the codec's Error when the message does not fit.
 *
 * The messages we build (a code like "2.04", a token of at most 8 bytes, Buffer option values and
 * payload) are written here directly, byte for byte what coap-packet writes (a property test compares
 * them): coap-packet's generate fills defaults into the packet, sorts its options in place, allocates a
 * buffer per option and decodes the payload as text to see whether it is empty, ~8% of the library's CPU
 * in a storm. Anything else goes to coap-packet. Unlike coap-packet, the caller's packet and options are
 * left as they are, and the buffer comes from Node's pool.
 */
export function generatePacket(packet: Packet, maxSize: number): Buffer {
  const token = packet.token ?? NO_BYTES;
  const payload = packet.payload ?? NO_BYTES;
  const code = packet.code || '0.01';
  const codeByte = codeByteOf(code);
  if (
    codeByte < 0 || codeByte === 0 || token.length > 8 || !Buffer.isBuffer(token) || !Buffer.isBuffer(payload) ||
    !Number.isInteger(packet.messageId) || (packet.messageId as number) < 0 || (packet.messageId as number) > 0xffff
  ) {
    return generate(packet, maxSize);
  }
  const opts = (packet.options ?? []) as { name: string | number; value: unknown }[];
  let numbers: number[] | undefined;
  let sorted = true;
  let length = 4 + token.length + (payload.length > 0 ? 1 + payload.length : 0);
  if (opts.length > 0) {
    numbers = new Array<number>(opts.length);
    let prev = 0;
    for (let i = 0; i < opts.length; i++) {
      const n = optionNumber(opts[i].name);
      const v = opts[i].value;
      if (!Number.isInteger(n) || n < 0 || !Buffer.isBuffer(v)) return generate(packet, maxSize);
      numbers[i] = n;
      if (n < prev) sorted = false;
      prev = n;
    }
    let order: number[] | undefined;
    if (!sorted) order = stableOrder(numbers);
    let last = 0;
    for (let k = 0; k < opts.length; k++) {
      const i = order ? order[k] : k;
      const delta = numbers[i] - last;
      last = numbers[i];
      length += 1 + extSize(delta) + extSize((opts[i].value as Buffer).length) + (opts[i].value as Buffer).length;
    }
    if (order) {
      const o = opts;
      const ns = numbers;
      numbers = order.map((i) => ns[i]);
      return write(packet, codeByte, token, payload, order.map((i) => o[i].value as Buffer), numbers, length, maxSize);
    }
  }
  return write(packet, codeByte, token, payload, opts.map((o) => o.value as Buffer), numbers ?? [], length, maxSize);
}

function write(
  packet: Packet, codeByte: number, token: Buffer, payload: Buffer, values: Buffer[], numbers: number[], length: number, maxSize: number,
): Buffer {
  if (length > maxSize) throw new Error(`Max packet size is ${maxSize}: current is ${length}`);
  const buf = Buffer.allocUnsafe(length);
  const type = packet.confirmable ? 0 : packet.ack ? 2 : packet.reset ? 3 : 1;
  buf[0] = 0x40 | (type << 4) | token.length;
  buf[1] = codeByte;
  buf[2] = (packet.messageId as number) >> 8 & 0xff;
  buf[3] = (packet.messageId as number) & 0xff;
  let pos = 4;
  pos += token.copy(buf, pos);
  let last = 0;
  for (let i = 0; i < values.length; i++) {
    const delta = numbers[i] - last;
    last = numbers[i];
    const len = values[i].length;
    buf[pos++] = (nibble(delta) << 4) | nibble(len);
    pos = writeExt(buf, pos, delta);
    pos = writeExt(buf, pos, len);
    pos += values[i].copy(buf, pos);
  }
  if (payload.length > 0) {
    buf[pos++] = 0xff;
    payload.copy(buf, pos);
  }
  return buf;
}

/**
 * A Confirmable request of ours, written straight into one buffer: the code, our 8-byte token (4 random bytes
 * as a signed 32-bit number, the 4-byte counter that keys the token table), options already in ascending order
 * (Uri-Path segments, then Content-Format or Accept, then Block2/Block1/Size1: what a Bootstrap request
 * carries) and the payload. Byte for byte what generatePacket writes for the same packet (a test compares them),
 * without a packet object, a token Buffer or the arrays of values and numbers per message. Options out of order,
 * or anything else generatePacket would hand to coap-packet, go to generatePacket.
 */
export function generateRequest(
  code: string, messageId: number, tokenRand: number, tokenKey: number, options: readonly { name: string | number; value: unknown }[],
  payload: Buffer | undefined, maxSize: number,
): Buffer {
  const codeByte = codeByteOf(code);
  const body = payload ?? NO_BYTES;
  let length = 4 + 8 + (body.length > 0 ? 1 + body.length : 0);
  let last = 0;
  let plain = codeByte > 0 && Buffer.isBuffer(body);
  for (let i = 0; plain && i < options.length; i++) {
    const n = optionNumber(options[i].name);
    const v = options[i].value;
    if (!Number.isInteger(n) || n < last || !Buffer.isBuffer(v)) {
      plain = false;
      break;
    }
    length += 1 + extSize(n - last) + extSize(v.length) + v.length;
    last = n;
  }
  if (!plain) {
    const token = Buffer.allocUnsafe(8);
    token.writeInt32BE(tokenRand, 0);
    token.writeUInt32BE(tokenKey, 4);
    return generatePacket({ code, messageId, token, options: options as Packet['options'], payload, confirmable: true }, maxSize);
  }
  if (length > maxSize) throw new Error(`Max packet size is ${maxSize}: current is ${length}`);
  const buf = Buffer.allocUnsafe(length);
  buf[0] = 0x48; // version 1, Confirmable, token length 8
  buf[1] = codeByte;
  buf[2] = (messageId >> 8) & 0xff;
  buf[3] = messageId & 0xff;
  buf[4] = tokenRand >>> 24;
  buf[5] = (tokenRand >>> 16) & 0xff;
  buf[6] = (tokenRand >>> 8) & 0xff;
  buf[7] = tokenRand & 0xff;
  buf[8] = tokenKey >>> 24;
  buf[9] = (tokenKey >>> 16) & 0xff;
  buf[10] = (tokenKey >>> 8) & 0xff;
  buf[11] = tokenKey & 0xff;
  let pos = 12;
  last = 0;
  for (let i = 0; i < options.length; i++) {
    const n = optionNumber(options[i].name);
    const v = options[i].value as Buffer;
    const delta = n - last;
    last = n;
    const len = v.length;
    buf[pos++] = (nibble(delta) << 4) | nibble(len);
    pos = writeExt(buf, pos, delta);
    pos = writeExt(buf, pos, len);
    for (let j = 0; j < len; j++) buf[pos + j] = v[j];
    pos += len;
  }
  if (body.length > 0) {
    buf[pos++] = 0xff;
    buf.set(body, pos); // (Buffer#copy checks its arguments, then does this)
  }
  return buf;
}

/**
 * A message without options (type 0 CON, 1 NON, 2 ACK), byte for byte what generatePacket writes for it (a test
 * compares them), without a packet object; undefined for what generatePacket would hand to coap-packet (a code
 * that is no "c.dd" or method name, a longer token). Throws the codec's Error when it does not fit.
 */
export function generateWithoutOptions(
  code: string, type: number, messageId: number, token: Buffer, payload: Buffer | undefined, maxSize: number,
): Buffer | undefined {
  const codeByte = codeByteOf(code || '0.01');
  const body = payload ?? NO_BYTES;
  if (codeByte <= 0 || token.length > 8 || !Buffer.isBuffer(token) || !Buffer.isBuffer(body)) return undefined;
  if (!Number.isInteger(messageId) || messageId < 0 || messageId > 0xffff) return undefined;
  const tkl = token.length;
  const length = 4 + tkl + (body.length > 0 ? 1 + body.length : 0);
  if (length > maxSize) throw new Error(`Max packet size is ${maxSize}: current is ${length}`);
  const buf = Buffer.allocUnsafe(length);
  buf[0] = 0x40 | (type << 4) | tkl;
  buf[1] = codeByte;
  buf[2] = (messageId >> 8) & 0xff;
  buf[3] = messageId & 0xff;
  for (let i = 0; i < tkl; i++) buf[4 + i] = token[i];
  if (body.length > 0) {
    buf[4 + tkl] = 0xff;
    buf.set(body, 5 + tkl);
  }
  return buf;
}

/** Method names as coap-packet reads them. */
const METHOD_CODES: Record<string, number> = {
  GET: 1, POST: 2, PUT: 3, DELETE: 4, FETCH: 5, PATCH: 6, iPATCH: 7,
  get: 1, post: 2, put: 3, delete: 4, fetch: 5, patch: 6, ipatch: 7,
};

/** The code byte of a method name or "c.dd" (0..7 . 00..31), or -1 for anything else (numbers). */
function codeByteOf(code: string): number {
  if (typeof code !== 'string') return -1;
  // The methods of our requests, compared before the keyed lookup.
  if (code === 'GET') return 1;
  if (code === 'PUT') return 3;
  if (code === 'POST') return 2;
  if (code === 'DELETE') return 4;
  const m = Object.prototype.hasOwnProperty.call(METHOD_CODES, code) ? METHOD_CODES[code] : undefined;
  if (m !== undefined) return m;
  if (code.length !== 4 || code.charCodeAt(1) !== 46) return -1;
  const c = code.charCodeAt(0) - 48;
  const d1 = code.charCodeAt(2) - 48;
  const d2 = code.charCodeAt(3) - 48;
  if (c < 0 || c > 7 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return -1;
  const d = d1 * 10 + d2;
  return d > 31 ? -1 : (c << 5) | d;
}

function nibble(n: number): number {
  return n <= 12 ? n : n < 269 ? 13 : 14;
}

function extSize(n: number): number {
  return n <= 12 ? 0 : n < 269 ? 1 : 2;
}

function writeExt(buf: Buffer, pos: number, n: number): number {
  if (n <= 12) return pos;
  if (n < 269) {
    buf[pos] = n - 13;
    return pos + 1;
  }
  buf[pos] = (n - 269) >> 8;
  buf[pos + 1] = (n - 269) & 0xff;
  return pos + 2;
}

/** Indices of `numbers` in ascending order, equal numbers in their given order (as a stable sort). */
function stableOrder(numbers: number[]): number[] {
  return numbers.map((_, i) => i).sort((a, b) => numbers[a] - numbers[b] || a - b);
}

export function emptyMessage(kind: 'ack' | 'reset', messageId: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = kind === 'ack' ? 0x60 : 0x70;
  b[1] = 0;
  b.writeUInt16BE(messageId, 2);
  return b;
}

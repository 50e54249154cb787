/**
 * What the fault suite throws at the server: malformed and mutated datagrams, forged Bootstrap-Requests that
 * never answer (from many ports and from other loopback addresses, which Linux accepts as 127.0.0.x), and
 * half-open DTLS handshakes (cookie exchange done, then silence). Senders pace themselves per event-loop tick
 * so the server in the same process gets its share of the loop, as it would against a remote attacker.
 */
import * as dgram from 'dgram';
import { generate } from 'coap-packet';
import { clientHello, cookieOf } from '../lib/dtls/support';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A small deterministic PRNG, so a failing run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

export async function openSockets(address: string, count: number): Promise<dgram.Socket[]> {
  const out: dgram.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = dgram.createSocket('udp4');
    s.on('message', () => undefined); // never answers
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
    out.push(s);
  }
  return out;
}

export async function closeSockets(sockets: dgram.Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/**
 * Sends `total` datagrams made by `make(i)`, round-robin over `sockets`, at `perSecond` (in 10 ms slices).
 * The rate is what the measurement is about: faster than one event loop reads, datagrams are lost in the
 * kernel's receive buffer whoever sent them (the network, not the server, decides then), and the
 * well-behaved device's lost datagrams cost it a retransmission like anyone else's.
 */
export async function sendPaced(
  sockets: dgram.Socket[],
  port: number,
  total: number,
  make: (i: number) => Buffer,
  perSecond = 20_000,
  onProgress?: (sent: number) => void,
): Promise<void> {
  const t0 = Date.now();
  for (let i = 0; i < total; ) {
    const due = Math.min(total, Math.max(i + 1, Math.floor(((Date.now() - t0 + 10) * perSecond) / 1000)));
    for (; i < due; i++) sockets[i % sockets.length].send(make(i), port, '127.0.0.1');
    onProgress?.(i);
    await sleep(10);
  }
}

function bsRequest(ep: string, mid: number, token: Buffer, extra: string[] = []): Buffer {
  return generate({
    code: '0.02',
    confirmable: true,
    messageId: mid & 0xffff,
    token,
    options: [
      { name: 'Uri-Path', value: Buffer.from('bs') },
      { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
      ...extra.map((q) => ({ name: 'Uri-Query' as const, value: Buffer.from(q) })),
    ],
  });
}

/** A forged, never-answering Bootstrap-Request number `i`. */
export function spoofedRequest(i: number): Buffer {
  return bsRequest(`spoof-${i}`, i, Buffer.from([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 7]));
}

/**
 * Malformed or mutated datagram number `i`: random bytes, truncated and bit-flipped Bootstrap-Requests,
 * bad option lengths, hostile endpoint names (newlines, escapes, 60 KB, invalid UTF-8), and other paths.
 */
export function malformedDatagram(i: number, rnd: () => number): Buffer {
  const valid = bsRequest(`m-${i}`, i, Buffer.from([i & 0xff, 1, 2, 3]), ['pct=112']);
  switch (i % 10) {
    case 0: {
      const len = 1 + Math.floor(rnd() * 64);
      const b = Buffer.alloc(len);
      for (let k = 0; k < len; k++) b[k] = Math.floor(rnd() * 256);
      return b;
    }
    case 1: {
      const b = Buffer.from(valid);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      return b;
    }
    case 2:
      return valid.subarray(0, 1 + Math.floor(rnd() * (valid.length - 1)));
    case 3:
      return Buffer.concat([valid, Buffer.from([0xff])]); // payload marker, no payload
    case 4:
      return Buffer.from([0x40, 0x02, (i >> 8) & 0xff, i & 0xff, 0xdd, 0x05]); // option past the end
    case 5:
      return bsRequest(`dev\n[error] forged line ${i}\u001b[31m`, i, Buffer.from([1]));
    case 6:
      return generate({
        code: '0.02', confirmable: true, messageId: i & 0xffff, token: Buffer.alloc(0),
        options: [{ name: 'Uri-Path', value: Buffer.from('bs') }, { name: 'Uri-Query', value: Buffer.concat([Buffer.from('ep=x'), Buffer.from([0xc3, 0x28, i & 0x7f])]) }],
      });
    case 7:
      return generate({ code: '0.01', confirmable: true, messageId: i & 0xffff, token: Buffer.alloc(0), options: [] }); // 4-byte GET /
    case 8:
      // A 60 KB name now and then (each fills a quarter of a default 208 KB receive buffer by itself).
      return longEpRequest(i % 1000 === 8 ? 60_000 : 300 + (i % 900), i);
    default: {
      const b = Buffer.from(valid);
      b[1] = [0x00, 0x01, 0x03, 0x04, 0x05, 0x45, 0xff][i % 7]; // empty, other methods, a response code, reserved
      return b;
    }
  }
}

/** `POST /bs?ep=xxx…` with an ep of `len` bytes, encoded by hand (coap-packet stops at 1280 bytes). */
function longEpRequest(len: number, mid: number): Buffer {
  const q = Buffer.concat([Buffer.from('ep='), Buffer.alloc(len, 'x')]);
  const ext = q.length - 269; // option length 269 and more: nibble 14 and two extended bytes (RFC 7252 §3.1)
  return Buffer.concat([
    Buffer.from([0x41, 0x02, (mid >> 8) & 0xff, mid & 0xff, 0x99]),
    Buffer.from([0xb2]), Buffer.from('bs'),
    Buffer.from([0x4e, (ext >> 8) & 0xff, ext & 0xff]), q,
  ]);
}

/** A mutated DTLS record: a ClientHello with flipped bits, truncated, or random bytes behind a record header. */
export function mutatedDtls(i: number, rnd: () => number): Buffer {
  const hello = clientHello(Buffer.alloc(0), 0, 0);
  switch (i % 3) {
    case 0: {
      const b = Buffer.from(hello);
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      return b;
    }
    case 1:
      return hello.subarray(0, 1 + Math.floor(rnd() * (hello.length - 1)));
    default: {
      const b = Buffer.alloc(13 + Math.floor(rnd() * 80));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
      b[0] = 22;
      b[1] = 0xfe;
      b[2] = 0xfd;
      return b;
    }
  }
}

/**
 * One half-open handshake from `address`: ClientHello, the cookie from the HelloVerifyRequest, ClientHello with
 * the cookie, then silence (the socket closes; the server's peer stays until evicted or timed out).
 * True when the server answered the cookie-verified ClientHello with its flight (a peer slot was taken).
 */
export async function halfOpen(address: string, port: number, waitMs = 300): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  s.on('error', () => undefined);
  try {
    await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
    s.send(clientHello(Buffer.alloc(0), 0, 0), port, '127.0.0.1');
    if (!(await waitFor(() => got.length >= 1, waitMs))) return false;
    if (got[0][13] !== 3) return false;
    s.send(clientHello(cookieOf(got[0]), 1, 1), port, '127.0.0.1');
    return await waitFor(() => got.length >= 2, waitMs);
  } finally {
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(5);
  return cond();
}

/** `total` half-open handshakes spread over `addresses`, `parallel` at a time. Resolves with how many took a slot. */
export async function halfOpenFlood(addresses: string[], port: number, total: number, parallel = 20, onProgress?: (done: number) => void): Promise<number> {
  let next = 0;
  let taken = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      if (await halfOpen(addresses[i % addresses.length], port)) taken++;
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return taken;
}

/**
 * What one DTLS record costs at the addon boundary, apart from the handshake and from anything above the record
 * layer: one session (node-dtls-client as the device), then the server side alone in a tight loop.
 *   npm run build && node dist/bench/dtls-records.js [--records 20000] [--size 80] [--rounds 5]
 * The device's records are captured first, then fed to the addon in a timed loop (feed: decrypt into a Buffer);
 * write encrypts as many records of --size bytes. Prints ns per call, the median of --rounds. To compare with an
 * older addon build, run it with LWM2M_DTLS_ADDON_DIR=<that package folder>: this adapter reads either.
 */
import * as dgram from 'dgram';
import { dtls } from 'node-dtls-client';
import { loadDtls, type NativePeer, type NativeResult } from '../lib/dtls/binding';
import { opensslCipherList } from '../lib/dtls/ciphers';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const records = arg('records', 20_000);
  const size = arg('size', 80);
  const rounds = arg('rounds', 5);
  const loaded = loadDtls();
  if (!loaded.ok) throw new Error(loaded.reason);
  const b = loaded.binding;
  const ctx = b.createContext({ ciphers: opensslCipherList(['TLS_PSK_WITH_AES_128_CCM_8']), mtu: 1200, cookieRotateMs: 60_000, securityLevel: 0, psk: () => KEY });
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  let peer: NativePeer | undefined;
  let capture: Buffer[] | undefined;
  let connected = false;
  const send = (res: NativeResult, port: number, address: string): void => {
    for (const d of res.out) udp.send(d, port, address);
    if (res.connected) connected = true;
  };
  udp.on('message', (msg, rinfo) => {
    if (capture) {
      capture.push(msg);
      return;
    }
    const res = peer ? b.feed(peer, msg) : b.listen(ctx, Buffer.from(`${rinfo.address}|${rinfo.port}`), msg);
    if (res.peer) peer = res.peer;
    send(res, rinfo.port, rinfo.address);
  });
  const client = dtls.createSocket({ type: 'udp4', address: '127.0.0.1', port: udp.address().port, psk: { dev: KEY as unknown as string }, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'], timeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connected', () => resolve());
    client.once('error', reject);
  });
  while (!connected) await new Promise((r) => setTimeout(r, 5));
  const handle = peer as NativePeer;

  const feedNs: number[] = [];
  const writeNs: number[] = [];
  const payload = Buffer.alloc(size, 0x41);
  for (let round = 0; round < rounds; round++) {
    capture = [];
    const got = capture;
    // In batches that the socket's receive buffer holds: a lost datagram would leave a gap in the sequence.
    for (let sent = 0; sent < records; ) {
      const n = Math.min(100, records - sent);
      for (let i = 0; i < n; i++) client.send(payload);
      sent += n;
      const end = Date.now() + 5_000;
      while (got.length < sent && Date.now() < end) await new Promise((r) => setImmediate(r));
      if (got.length < sent) throw new Error(`captured only ${got.length} of ${sent} records`);
    }
    let bytes = 0;
    let t = process.hrtime.bigint();
    for (const d of got) for (const x of b.feed(handle, d).data) bytes += x.length;
    feedNs.push(Number(process.hrtime.bigint() - t) / records);
    if (bytes !== records * size) throw new Error(`decrypted ${bytes} bytes, expected ${records * size}`);
    let out = 0;
    t = process.hrtime.bigint();
    for (let i = 0; i < records; i++) out += b.write(handle, payload).out.length;
    writeNs.push(Number(process.hrtime.bigint() - t) / records);
    if (out !== records) throw new Error(`write gave ${out} datagrams for ${records} records`);
  }
  capture = [];
  process.stdout.write(
    `${process.env.LWM2M_DTLS_ADDON_DIR ?? 'this tree'}: ${records} records of ${size} bytes x ${rounds}: ` +
      `feed ${median(feedNs).toFixed(0)} ns, write ${median(writeNs).toFixed(0)} ns per record (median; all feed ${feedNs.map((x) => x.toFixed(0)).join(' ')}, write ${writeNs.map((x) => x.toFixed(0)).join(' ')})\n`,
  );
  b.free(handle);
  try {
    client.close();
  } catch {
    // already gone
  }
  udp.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

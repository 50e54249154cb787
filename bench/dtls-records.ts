/**
 * What one DTLS record costs at the addon boundary, apart from the handshake and from anything above the record
 * layer: one session per addon build (node-dtls-client as the device), then the server side alone in a tight loop.
 *   npm run build && node dist/bench/dtls-records.js [--records 5000] [--size 80] [--rounds 15] [--addons DIR,DIR]
 * Each round captures the device's next records, then feeds them to the addon in a timed loop (feed: decrypt
 * into a Buffer) and encrypts as many records of --size bytes (write). --addons compares addon builds (package
 * folders holding build/Release or prebuilds/, e.g. an older worktree) in one process, round by round in turn,
 * each read through this tree's adapter; without it, the addon of this tree. Prints ns per call: the minimum
 * over the rounds (what the record costs when nothing else runs on the machine) and the median.
 */
import * as dgram from 'dgram';
import { dtls } from 'node-dtls-client';
import { loadDtls, packageRoot, type DtlsBinding, type NativePeer, type NativeResult } from '../lib/dtls/binding';
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

interface Session {
  dir: string;
  b: DtlsBinding;
  handle: NativePeer;
  client: dtls.Socket;
  udp: dgram.Socket;
  capture: Buffer[] | undefined;
  feedNs: number[];
  writeNs: number[];
}

/** A server socket on the addon in `dir` with one device connected to it. */
async function session(dir: string): Promise<Session> {
  const loaded = loadDtls(dir);
  if (!loaded.ok) throw new Error(loaded.reason);
  const b = loaded.binding;
  const ctx = b.createContext({ ciphers: opensslCipherList(['TLS_PSK_WITH_AES_128_CCM_8']), mtu: 1200, cookieRotateMs: 60_000, securityLevel: 0, psk: () => KEY });
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  let peer: NativePeer | undefined;
  let connected = false;
  const s = { dir, b, udp, capture: undefined, feedNs: [], writeNs: [] } as unknown as Session;
  const send = (res: NativeResult, port: number, address: string): void => {
    for (const d of res.out) udp.send(d, port, address);
    if (res.connected) connected = true;
  };
  udp.on('message', (msg, rinfo) => {
    if (s.capture) {
      s.capture.push(msg);
      return;
    }
    const res = peer ? b.feed(peer, msg) : b.listen(ctx, Buffer.from(`${rinfo.address}|${rinfo.port}`), msg);
    if (res.peer) peer = res.peer;
    send(res, rinfo.port, rinfo.address);
  });
  s.client = dtls.createSocket({ type: 'udp4', address: '127.0.0.1', port: udp.address().port, psk: { dev: KEY as unknown as string }, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'], timeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    s.client.once('connected', () => resolve());
    s.client.once('error', reject);
  });
  while (!connected) await new Promise((r) => setTimeout(r, 5));
  s.handle = peer as NativePeer;
  return s;
}

async function round(s: Session, records: number, payload: Buffer): Promise<void> {
  const got: Buffer[] = [];
  s.capture = got;
  // In batches that the socket's receive buffer holds: a lost datagram would leave a gap in the sequence.
  for (let sent = 0; sent < records; ) {
    const n = Math.min(100, records - sent);
    for (let i = 0; i < n; i++) s.client.send(payload);
    sent += n;
    const end = Date.now() + 5_000;
    while (got.length < sent && Date.now() < end) await new Promise((r) => setImmediate(r));
    if (got.length < sent) throw new Error(`captured only ${got.length} of ${sent} records`);
  }
  const { b, handle } = s;
  let bytes = 0;
  let t = process.hrtime.bigint();
  for (const d of got) for (const x of b.feed(handle, d).data) bytes += x.length;
  s.feedNs.push(Number(process.hrtime.bigint() - t) / records);
  if (bytes !== records * payload.length) throw new Error(`decrypted ${bytes} bytes, expected ${records * payload.length}`);
  let out = 0;
  t = process.hrtime.bigint();
  for (let i = 0; i < records; i++) out += b.write(handle, payload).out.length;
  s.writeNs.push(Number(process.hrtime.bigint() - t) / records);
  if (out !== records) throw new Error(`write gave ${out} datagrams for ${records} records`);
}

async function main(): Promise<void> {
  const records = arg('records', 5000);
  const size = arg('size', 80);
  const rounds = arg('rounds', 15);
  const ai = process.argv.indexOf('--addons');
  const dirs = ai > 0 ? process.argv[ai + 1].split(',') : [packageRoot()];
  const sessions: Session[] = [];
  for (const dir of dirs) sessions.push(await session(dir));
  const payload = Buffer.alloc(size, 0x41);
  for (let r = 0; r < rounds; r++) for (const s of sessions) await round(s, records, payload);
  const f = (xs: number[]) => `${Math.min(...xs).toFixed(0)} ns (median ${median(xs).toFixed(0)})`;
  for (const s of sessions) {
    process.stdout.write(`${s.dir}: ${rounds} rounds of ${records} records of ${size} bytes: feed ${f(s.feedNs)}, write ${f(s.writeNs)} per record\n`);
    s.capture = [];
    s.b.free(s.handle);
    try {
      s.client.close();
    } catch {
      // already gone
    }
    s.udp.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * The addon's io area (lib/dtls/binding.ts IoArea, native/dtls.h): every call overwrites it, so no Buffer that
 * JavaScript is handed may point into it.
 */
import assert from 'node:assert/strict';
import { IO_HEADER, IO_LAYOUT, IO_WORDS, IoArea, loadDtls, packageRoot, type DtlsBinding } from '../../../lib/dtls/binding';
import type { DtlsRemoteInfo } from '../../../lib/dtls';
import { KEY, closeClient, connectClient, roundTrip, startServer, type TestServer } from './support';

/** Writes a result into the area as the addon does (native/dtls.h): words, items, then the texts. */
function put(io: IoArea, flags: number, timeout: number, out: Buffer[], data: Buffer[], texts: [string, string, string] = ['', '', '']): void {
  const w = new Int32Array(io.area, 0, IO_HEADER / 4);
  const bytes = Buffer.from(io.area);
  w[0] = flags;
  w[1] = timeout;
  w[2] = out.length;
  w[3] = data.length;
  let at = IO_HEADER;
  [...out, ...data].forEach((b, i) => {
    w[IO_WORDS + i] = b.length;
    b.copy(bytes, at);
    at += b.length;
  });
  texts.forEach((t, i) => {
    w[4 + i] = bytes.write(t, at);
    at += w[4 + i];
  });
}

describe('DTLS addon io area', function () {
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('reads datagrams and records into Buffers of their own, which the next result does not change', () => {
    const io = new IoArea();
    put(io, 1, 250, [Buffer.from('first datagram'), Buffer.from('second')], [Buffer.from('record one'), Buffer.from('two')]);
    const r = io.read();
    assert.deepEqual(r.out.map(String), ['first datagram', 'second']);
    assert.deepEqual(r.data.map(String), ['record one', 'two']);
    assert.equal(r.connected, true);
    assert.equal(r.closed, false);
    assert.equal(r.timeout, 250);
    put(io, 2, -1, [Buffer.from('XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX')], [Buffer.from('YYYYYYYYYYYYYYYYYYYYYYYYYYYYYY')]);
    const next = io.read();
    assert.deepEqual(r.out.map(String), ['first datagram', 'second'], 'earlier datagrams unchanged');
    assert.deepEqual(r.data.map(String), ['record one', 'two'], 'earlier records unchanged');
    for (const b of [...r.out, ...r.data, ...next.out, ...next.data]) assert.notEqual(b.buffer, io.area);
    assert.deepEqual([next.connected, next.closed, next.timeout, next.data.length], [false, true, -1, 1]);
  });

  it('reads an empty result as no datagrams and no records', () => {
    const io = new IoArea();
    put(io, 0, -1, [], []);
    const r = io.read();
    assert.deepEqual([r.out.length, r.data.length, r.connected, r.closed, r.timeout], [0, 0, false, false, -1]);
    assert.deepEqual([r.error, r.alertSent, r.alertReceived], [undefined, undefined, undefined]);
  });

  it('reads the error and the alerts after the items, and only those that are there', () => {
    const io = new IoArea();
    put(io, 2, -1, [Buffer.from('alert datagram')], [], ['', 'close notify', 'close notify']);
    let r = io.read();
    assert.deepEqual(r.out.map(String), ['alert datagram']);
    assert.deepEqual([r.error, r.alertSent, r.alertReceived], [undefined, 'close notify', 'close notify']);
    put(io, 0, -1, [], [], ['PSK identity of 3 bytes contains a zero byte; refused', 'unknown PSK identity', '']);
    r = io.read();
    assert.deepEqual([r.error, r.alertSent, r.alertReceived], ['PSK identity of 3 bytes contains a zero byte; refused', 'unknown PSK identity', undefined]);
  });

  it('is what the addon built in this tree answers through', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = (require('node-gyp-build') as (dir: string) => DtlsBinding)(packageRoot());
    assert.equal(typeof raw.setIo, 'function');
    assert.throws(() => raw.setIo!(new ArrayBuffer(IO_HEADER + 64), IO_LAYOUT + 1), /writes io area layout 2, not 3/);
    const loaded = loadDtls();
    assert.ok(loaded.ok);
    assert.equal('setIo' in loaded.binding, false, 'the adapter keeps the area to itself');
  });

  it('hands each message its own bytes: Buffers kept from earlier records are unchanged after later records and replies', async () => {
    srv = await startServer();
    const kept: Buffer[] = [];
    srv.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => {
      kept.push(msg);
      const reply = Buffer.concat([Buffer.from('re:'), msg]);
      srv!.socket.send(reply, rinfo.port, rinfo.address);
    });
    const client = await connectClient(srv.port, 'dev1', KEY);
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const text = `message ${i} ${'x'.repeat(i * 7)}`;
      sent.push(text);
      assert.equal((await roundTrip(client, Buffer.from(text))).toString(), `re:${text}`);
    }
    await closeClient(client);
    assert.deepEqual(kept.map(String), sent);
  });

  it('keeps serving a session when the addon is loaded a second time (both loaders read the one area)', async () => {
    srv = await startServer();
    srv.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => srv!.socket.send(Buffer.concat([Buffer.from('re:'), msg]), rinfo.port, rinfo.address));
    const client = await connectClient(srv.port, 'dev1', KEY);
    assert.equal((await roundTrip(client, Buffer.from('before'))).toString(), 're:before');
    const again = loadDtls(packageRoot());
    assert.ok(again.ok);
    const ctx = again.binding.createContext({ ciphers: 'PSK-AES128-CCM8', mtu: 1200, cookieRotateMs: 60_000, psk: () => KEY });
    const hello = again.binding.listen(ctx, Buffer.from('127.0.0.1|1'), Buffer.from('not a ClientHello'));
    assert.equal(hello.peer, undefined);
    assert.equal((await roundTrip(client, Buffer.from('after'))).toString(), 're:after');
    await closeClient(client);
  });
});

/**
 * The key seam in real DTLS handshakes (lib/keys/source.ts through the listener's CoapsController): a
 * device whose key is not in memory fails its first handshake, which starts the lookup, and completes the
 * next one; a wrong key still fails; an unknown identity is looked up once, not on every ClientHello. The
 * device source reads a file on disk for each lookup (test/lib/keys/file-sources.ts); the PSK client is
 * node-dtls-client, the raw public key client libcoap's coap-client-gnutls (pending where this Node's
 * OpenSSL has no raw public keys, i.e. before OpenSSL 3.2 / Node 22).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createDtlsSocket, dtlsCapabilities, rpkFingerprint, type DtlsSocket } from '../../../lib/dtls';
import { CoapsController } from '../../../lib/keys';
import { itWhere, titleWhere } from '../../support/pending';
import { FileDeviceSource, FileRpkSource, writeRows } from '../keys/file-sources';
import { requireBinary, run, type Running } from './external';
import { closeClient, connectClient, waitFor } from './support';

const KEY_A = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const log = { warn: () => undefined };

async function listen(socket: DtlsSocket): Promise<number> {
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket.address().port;
}

describe('DTLS handshakes through the key seam (PSK from a device source)', function () {
  this.timeout(20000);
  let dir: string;
  let src: FileDeviceSource;
  let coaps: CoapsController;
  let socket: DtlsSocket;
  let port: number;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyseam-'));
    const file = path.join(dir, 'devices.json');
    writeRows(file, [{ endpoint: 'dev-a', identity: 'id-a', pskKey: KEY_A.toString('hex') }]);
    src = new FileDeviceSource(file);
    coaps = new CoapsController(new Map(), log, () => '');
    coaps.useSource(src);
    socket = createDtlsSocket({ psk: coaps.psk });
    port = await listen(socket);
  });
  afterEach(async () => {
    coaps.release();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a device whose key is not in memory fails its first handshake and completes the retry', async () => {
    await assert.rejects(connectClient(port, 'id-a', KEY_A), /unknown_psk_identity/);
    await waitFor(() => coaps.stats().prefetch.found === 1, 3000, 'the key fetched');
    const client = await connectClient(port, 'id-a', KEY_A);
    await closeClient(client);
    assert.equal(socket.stats().handshakesCompleted, 1);
    assert.equal(src.lookups, 1);
    assert.deepEqual(coaps.psk.endpointsOf('id-a'), ['dev-a'], 'the binding check sees the row');
  });

  it('a wrong key still fails once the identity is known', async () => {
    await assert.rejects(connectClient(port, 'id-a', KEY_A));
    await waitFor(() => coaps.stats().prefetch.found === 1, 3000, 'the key fetched');
    await assert.rejects(connectClient(port, 'id-a', Buffer.from('ffeeddccbbaa99887766554433221100', 'hex'), 'TLS_PSK_WITH_AES_128_CCM_8', 1500));
    assert.equal(socket.stats().handshakesCompleted, 0);
  });

  it('an unknown identity is looked up once, not on every ClientHello', async () => {
    await assert.rejects(connectClient(port, 'nobody', KEY_A), /unknown_psk_identity/);
    await waitFor(() => coaps.stats().prefetch.absent === 1, 3000, 'the miss');
    for (let i = 0; i < 5; i++) await assert.rejects(connectClient(port, 'nobody', KEY_A), /unknown_psk_identity/);
    assert.equal(src.lookups, 1);
    assert.equal(coaps.stats().handshake.absent, 5);
  });
});

const RPK = dtlsCapabilities().rpk;

describe(titleWhere(RPK.available, 'DTLS raw public keys through the key seam (coap-client-gnutls)', RPK.reason), function () {
  this.timeout(20000);
  const rpkIt = itWhere(RPK.available);
  const procs: Running[] = [];
  let dir: string;
  afterEach(() => {
    for (const p of procs.splice(0)) p.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  rpkIt('a trusted key that is not in memory fails the first handshake and completes the retry; an untrusted one stays refused', async function () {
    requireBinary(this, 'coap-client-gnutls');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyseam-rpk-'));
    const keyFile = (name: string) => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const file = path.join(dir, `${name}.key`);
      fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'sec1' }).toString());
      return { file, fp: rpkFingerprint(publicKey.export({ format: 'der', type: 'spki' })) };
    };
    const server = keyFile('server');
    const device = keyFile('device');
    const rogue = keyFile('rogue');
    const rows = path.join(dir, 'keys.json');
    writeRows(rows, [{ endpoint: 'rpk-dev', rpk: device.fp }]);
    const rpkSource = new FileRpkSource(rows);
    const coaps = new CoapsController(new Map(), log, () => '');
    coaps.useRpk(new Map(), '');
    coaps.useKeySource(rpkSource);
    const socket = createDtlsSocket({ rpk: coaps.rpk, key: fs.readFileSync(server.file) });
    const port = await listen(socket);
    const completed: string[] = [];
    socket.on('handshake', (p: { identity?: { id: string } }) => void completed.push(p.identity?.id ?? ''));
    try {
      const client = (file: string) => {
        const p = run('coap-client-gnutls', ['-B', '3', '-m', 'get', '-M', file, `coaps://127.0.0.1:${port}/bs`]);
        procs.push(p);
        return p;
      };
      client(device.file);
      await waitFor(() => socket.stats().handshakesFailed >= 1 && rpkSource.cachedRpk(device.fp) !== undefined, 8000, 'the first attempt refused, the key fetched');
      client(device.file);
      await waitFor(() => completed.includes(device.fp), 8000, 'the retry completed');
      assert.deepEqual(coaps.rpk!.endpointsOf(device.fp), ['rpk-dev']);
      const failed = socket.stats().handshakesFailed;
      client(rogue.file);
      await waitFor(() => socket.stats().handshakesFailed > failed && rpkSource.cachedRpk(rogue.fp) === null, 8000, 'the rogue refused');
      client(rogue.file);
      await waitFor(() => socket.stats().handshakesFailed > failed + 1, 8000, 'the rogue refused again');
      assert.ok(!completed.includes(rogue.fp), 'the rogue key never completed a handshake');
      assert.equal(rpkSource.lookups, 2, 'one lookup per key, none per attempt');
    } finally {
      coaps.release();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });
});

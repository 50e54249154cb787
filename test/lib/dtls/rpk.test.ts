/**
 * Raw public keys (RFC 7250). Key parsing and the capability report run everywhere. Where this Node's OpenSSL
 * is 3.2 or newer (Node 22 in CI's compatibility run) real handshakes run against libcoap's coap-client built on
 * GnuTLS, an independent RFC 7250 implementation; where it is older, the tests check that asking for raw public
 * keys fails with an error that says why, and nothing else changes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import { createHash, generateKeyPairSync } from 'crypto';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as coap from 'coap';
import {
  createDtlsSocket,
  dtlsCapabilities,
  DtlsError,
  MemoryRpkStore,
  parseRawPublicKey,
  rpkFingerprint,
  type DtlsRemoteInfo,
} from '../../../lib/dtls';
import { hasBinary, makeCerts, requireBinary, run, type CertSet, type Running } from './external';
import { itWhere, titleWhere } from '../../support/pending';
import { startServer, waitFor, type TestServer } from './support';

function opensslAtLeast32(v: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v ?? '');
  return !!m && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 2));
}

function ecKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privatePem: privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
  };
}

describe('DTLS raw public keys: key shapes', function () {
  it('PEM, base64/hex SubjectPublicKeyInfo and the bare P-256 point all name the same key', function () {
    const k = ecKey();
    const point = k.spki.subarray(k.spki.length - 65); // 04||x||y
    const shapes: (string | Buffer)[] = [
      k.pem,
      k.spki.toString('base64'),
      k.spki.toString('base64url'),
      k.spki.toString('hex'),
      k.spki.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'),
      point.toString('hex'),
      point.subarray(1).toString('base64'),
      k.spki,
    ];
    const fp = createHash('sha256').update(k.spki).digest('hex');
    for (const shape of shapes) assert.equal(rpkFingerprint(parseRawPublicKey(shape)), fp, String(shape).slice(0, 40));
  });

  it('the fingerprint is what openssl prints for the DER public key', function () {
    requireBinary(this, 'openssl');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpk-'));
    try {
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(dir, 'k.pem')]);
      const der = execFileSync('openssl', ['pkey', '-in', path.join(dir, 'k.pem'), '-pubout', '-outform', 'DER']);
      const pem = execFileSync('openssl', ['pkey', '-in', path.join(dir, 'k.pem'), '-pubout']).toString();
      assert.equal(rpkFingerprint(parseRawPublicKey(pem)), createHash('sha256').update(der).digest('hex'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('text that is no public key is refused with a message that does not repeat it', function () {
    for (const bad of ['hello world', '0011223344', 'AAAA', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '']) {
      assert.throws(
        () => parseRawPublicKey(bad),
        (e: unknown) => e instanceof DtlsError && e.dtlsCode === 'DTLS_RPK_KEY' && (bad.length < 4 || !e.message.includes(bad)),
        JSON.stringify(bad),
      );
    }
  });

  it('a MemoryRpkStore trusts added keys by fingerprint and keeps their endpoints', function () {
    const a = ecKey();
    const b = ecKey();
    const store = new MemoryRpkStore().add(a.pem, 'dev-a').add(a.spki.toString('base64'), 'dev-a2');
    const fa = rpkFingerprint(a.spki);
    assert.equal(store.trusts(fa), true);
    assert.equal(store.trusts(rpkFingerprint(b.spki)), false);
    assert.deepEqual(store.endpointsOf(fa), ['dev-a', 'dev-a2']);
    assert.equal(store.size, 1);
    assert.equal(store.delete(a.spki), true);
    assert.equal(store.trusts(fa), false);
  });

  it('the capability report agrees with the OpenSSL inside this Node', function () {
    const c = dtlsCapabilities();
    if (!c.available) return assert.equal(c.rpk.available, false);
    assert.equal(c.rpk.available, opensslAtLeast32(c.addonOpenssl?.replace(/^OpenSSL /, '')));
    if (!c.rpk.available) assert.match(c.rpk.reason ?? '', /OpenSSL 3\.2/);
  });

  it('a key without a certificate and without raw public keys is a configuration error', function () {
    const k = ecKey();
    assert.throws(
      () => createDtlsSocket({ key: k.privatePem }),
      (e: unknown) => e instanceof DtlsError && e.dtlsCode === 'DTLS_ARGUMENT' && /raw public keys/.test(e.message),
    );
  });
});

const RPK = dtlsCapabilities().rpk;

describe(titleWhere(!RPK.available, `DTLS raw public keys unavailable here (OpenSSL ${process.versions.openssl})`, 'this OpenSSL has raw public keys'), function () {
  itWhere(!RPK.available)('asking for them fails at once and says why', function () {
    const k = ecKey();
    assert.throws(
      () => createDtlsSocket({ rpk: new MemoryRpkStore().add(k.pem), key: k.privatePem }),
      (e: unknown) =>
        e instanceof DtlsError &&
        e.dtlsCode === 'DTLS_RPK_UNAVAILABLE' &&
        e.message.includes(process.version) &&
        /OpenSSL 3\.2 or newer/.test(e.message),
    );
  });
});

describe(titleWhere(RPK.available, `DTLS raw public keys with coap-client-gnutls (OpenSSL ${process.versions.openssl})`, RPK.reason), function () {
  const rpkIt = itWhere(RPK.available);
  let dir: string;
  let certs: CertSet | undefined;
  let srv: TestServer | undefined;
  let server: coap.Server | undefined;
  const procs: Running[] = [];
  const keys: Record<string, { file: string; fp: string; pem: string }> = {};

  if (RPK.available) before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpk-'));
    for (const name of ['server', 'device', 'rogue']) {
      const k = ecKey();
      const file = path.join(dir, `${name}.key`);
      fs.writeFileSync(file, k.privatePem); // libcoap -M takes an EC PRIVATE KEY PEM
      keys[name] = { file, fp: rpkFingerprint(k.spki), pem: k.pem };
    }
    if (hasBinary('openssl')) certs = makeCerts();
  });
  if (RPK.available) after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });
  if (RPK.available) afterEach(async () => {
    for (const p of procs.splice(0)) p.stop();
    server?.close();
    server = undefined;
    await srv?.close();
    srv = undefined;
  });

  /** A DTLS socket with raw public keys (device key trusted), PSK dev1 and optionally certificates, answering CoAP GETs. */
  async function start(withCerts = false): Promise<TestServer> {
    const rpk = new MemoryRpkStore().add(keys.device.pem, 'rpk-dev');
    const opts = withCerts && certs
      ? { rpk, cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey), ca: fs.readFileSync(certs.ca) }
      : { rpk, key: fs.readFileSync(keys.server.file) };
    srv = await startServer(opts);
    server = coap.createServer((req, res) => {
      const r = req.rsinfo as unknown as DtlsRemoteInfo;
      res.end(`hello ${r.identity?.type}:${r.identity?.id} ${r.cipher}`);
    });
    await new Promise<void>((resolve) => server!.listen(srv!.socket as unknown as dgram.Socket, () => resolve()));
    return srv;
  }

  function client(s: TestServer, args: string[]): Running {
    const p = run('coap-client-gnutls', ['-B', '4', '-m', 'get', ...args, `coaps://127.0.0.1:${s.port}/bs`]);
    procs.push(p);
    return p;
  }

  rpkIt('a trusted device key completes the handshake; its identity is the key fingerprint', async function () {
    requireBinary(this, 'coap-client-gnutls');
    const s = await start();
    const handshakes: { identity?: unknown }[] = [];
    s.socket.on('handshake', (p: { identity?: unknown }) => handshakes.push(p));
    await client(s, ['-M', keys.device.file]).waitFor(new RegExp(`hello rpk:${keys.device.fp} TLS_ECDHE_ECDSA_WITH_AES_128_`));
    const id = handshakes[0]?.identity as { type: string; id: string; publicKey: string };
    assert.equal(id.type, 'rpk');
    assert.equal(id.id, keys.device.fp);
    assert.equal(rpkFingerprint(Buffer.from(id.publicKey, 'base64')), keys.device.fp);
  });

  rpkIt('an untrusted key is refused in the handshake, logged by fingerprint, and the server keeps serving', async function () {
    requireBinary(this, 'coap-client-gnutls');
    const s = await start();
    const rogue = client(s, ['-M', keys.rogue.file]);
    await waitFor(() => s.socket.stats().handshakesFailed === 1, 5000, `rogue refused (${rogue.output()})`);
    assert.equal(s.socket.stats().handshakesCompleted, 0);
    assert.ok(s.logs.some((l) => l.msg.includes(`untrusted raw public key sha256:${keys.rogue.fp}`)), JSON.stringify(s.logs));
    assert.doesNotMatch(rogue.output(), /hello/);
    await client(s, ['-M', keys.device.file]).waitFor(/hello rpk:/);
  });

  rpkIt('PSK devices keep working on a socket with raw public keys', async function () {
    requireBinary(this, 'coap-client-gnutls');
    const s = await start();
    s.store.set('dev1', Buffer.from('secretPSK'));
    await client(s, ['-u', 'dev1', '-k', 'secretPSK']).waitFor(/hello psk:dev1 TLS_PSK_WITH_AES_128_CCM_8/);
  });

  rpkIt('with a certificate and CA configured, certificate clients and raw-public-key clients both get in', async function () {
    requireBinary(this, 'coap-client-gnutls');
    if (!certs) requireBinary(this, 'openssl');
    const s = await start(true);
    await client(s, ['-c', certs!.clientCert, '-j', certs!.clientKey, '-C', certs!.ca]).waitFor(/hello x509:urn:dev:cert1 /);
    await client(s, ['-M', keys.device.file]).waitFor(new RegExp(`hello rpk:${keys.device.fp} `));
    assert.equal(s.socket.stats().handshakesCompleted, 2);
  });
});

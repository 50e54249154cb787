import { strict as assert } from 'node:assert';
import { decode, encode } from '../../../lib/codec';
import { BootstrapPackRequest, type BootstrapServer } from '../../../lib/bootstrap';
import { defaultModel, LwM2mPath, rootFromJson, type RootNode } from '../../../lib/model';
import { ScriptedDevice } from '../../support/scripted-device';
import { startServer } from './helpers';

const PACK: RootNode = rootFromJson(
  {
    0: { 2: { 0: 'coap://127.0.0.1:5683', 1: false, 2: 3, 3: '', 4: '', 5: '', 10: 1 } },
    1: { 1: { 0: 1, 1: 60, 6: false, 7: 'U' } },
  },
  defaultModel,
);

describe('BootstrapServer: Bootstrap-Pack-Request (GET /bspack)', () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;

  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  it('answers 2.05 with the pack in SenML CBOR when the flow responds', async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
    let seen: BootstrapPackRequest | undefined;
    server.on('packRequest', (req) => {
      seen = req;
      void req.respond(PACK);
    });
    const res = await dev.packRequest({ port }, { ep: 'dev-pack', accept: 112 });
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 112);
    assert.deepEqual(res.payload, encode(112, LwM2mPath.root(), PACK, defaultModel));
    assert.equal(res.payload[0] >> 5, 4, 'a CBOR array (SenML records)');
    const back = decode(112, LwM2mPath.root(), res.payload, defaultModel) as RootNode;
    assert.equal(back.objects.get(0)?.instances.get(2)?.resources.get(0)?.kind, 'single');
    assert.equal(seen?.endpoint, 'dev-pack');
    assert.equal(seen?.accept, 112);
    assert.equal(seen?.kind, 'pack');
    assert.deepEqual(seen?.peer, { address: '127.0.0.1', port: dev.port, family: 'IPv4' });
  });

  it('answers the default 4.04 when nobody answers within packResponseTimeoutMs', async () => {
    ({ server, port } = await startServer({ packResponseTimeoutMs: 200 }));
    dev = await ScriptedDevice.create();
    let late: Promise<void> | undefined;
    server.on('packRequest', (req) => {
      setTimeout(() => (late = req.respond(PACK)), 400);
    });
    const t0 = Date.now();
    const res = await dev.packRequest({ port }, { ep: 'dev-slow' });
    assert.equal(res.code, '4.04');
    assert.ok(Date.now() - t0 >= 190);
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(late as Promise<void>, /already answered/);
  });

  it('answers the default code at once when no listener handles pack requests', async () => {
    ({ server, port } = await startServer({ packDefaultCode: '5.01' }));
    dev = await ScriptedDevice.create();
    assert.equal((await dev.packRequest({ port }, { ep: 'dev-none' })).code, '5.01');
  });

  it('answers 4.06 to an Accept that is not a pack format, and 4.00 without ep', async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
    let seen = 0;
    server.on('packRequest', () => seen++);
    assert.equal((await dev.packRequest({ port }, { ep: 'x', accept: 11542 })).code, '4.06');
    assert.equal((await dev.packRequest({ port }, {})).code, '4.00');
    assert.equal(seen, 0);
  });

  it('passes on the flow\'s error code and diagnostic', async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
    server.on('packRequest', (req) => void req.reject('4.01', 'unknown device'));
    const res = await dev.packRequest({ port }, { ep: 'who' });
    assert.equal(res.code, '4.01');
    assert.equal(res.payload.toString(), 'unknown device');
  });
});

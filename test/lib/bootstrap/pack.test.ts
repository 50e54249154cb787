import { strict as assert } from 'node:assert';
import { decode, encode } from '../../../lib/codec';
import { BootstrapPackRequest, type BootstrapServer } from '../../../lib/bootstrap';
import { defaultModel, LwM2mPath, rootFromJson, type RootNode } from '../../../lib/model';
import { ScriptedDevice } from '../../support/scripted-device';
import { markAfter } from '../../support/timer-mark';
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

  it('sends a pack larger than a block in Block2 parts, asking the flow only once', async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
    const big: RootNode = {
      kind: 'root',
      objects: new Map([
        [0, { kind: 'object', id: 0, instances: new Map([[2, { kind: 'instance', id: 2, resources: new Map([
          [0, { kind: 'single', id: 0, type: 'string', value: 'coaps://lwm2m.example.com:5684' }],
          [1, { kind: 'single', id: 1, type: 'boolean', value: false }],
          [2, { kind: 'single', id: 2, type: 'integer', value: 2 }],
          [3, { kind: 'single', id: 3, type: 'opaque', value: Buffer.alloc(900, 0x31) }],
          [4, { kind: 'single', id: 4, type: 'opaque', value: Buffer.alloc(800, 0x32) }],
          [5, { kind: 'single', id: 5, type: 'opaque', value: Buffer.alloc(138, 0x33) }],
          [10, { kind: 'single', id: 10, type: 'integer', value: 1 }],
        ]) }]]) }],
      ]),
    } as RootNode;
    let asked = 0;
    server.on('packRequest', (req) => {
      asked++;
      void req.respond(big);
    });
    const res = await dev.packRequest({ port }, { ep: 'dev-big', accept: 112 });
    const expected = encode(112, LwM2mPath.root(), big, defaultModel);
    assert.ok(expected.length > 1024, 'more than one block: one datagram (1152 bytes max) cannot carry it');
    assert.equal(res.code, '2.05');
    assert.deepEqual(res.payload, expected);
    assert.equal(asked, 1);
  });

  it('answers 4.08 to a later block of a pack it does not have', async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
    server.on('packRequest', () => assert.fail('the flow must not be asked for block 1'));
    const res = await dev.request({ port }, { method: 'GET', path: '/bspack', query: ['ep=nobody'], accept: 112, block2: (1 << 4) | 6 });
    assert.equal(res.code, '4.08');
  });

  it('answers the default 4.04 when nobody answers within packResponseTimeoutMs', async () => {
    ({ server, port } = await startServer({ packResponseTimeoutMs: 200 }));
    dev = await ScriptedDevice.create();
    let late: Promise<unknown> | undefined;
    server.on('packRequest', (req) => {
      setTimeout(() => (late = req.respond(PACK).then(() => undefined, (e: unknown) => e)), 400);
    });
    const timeoutNear = markAfter(150);
    const res = await dev.packRequest({ port }, { ep: 'dev-slow' });
    assert.equal(res.code, '4.04');
    assert.ok(timeoutNear.fired, 'answered by the 200 ms timer, not at once');
    await new Promise((r) => setTimeout(r, 300));
    const err = await late;
    assert.ok(err instanceof Error && /already answered/.test(err.message));
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

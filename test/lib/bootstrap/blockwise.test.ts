import { strict as assert } from 'node:assert';
import { encode } from '../../../lib/codec';
import {
  BootstrapDiscoverRequest,
  BootstrapWriteRequest,
  type BootstrapServer,
  type BootstrapSession,
} from '../../../lib/bootstrap';
import { defaultModel, LwM2mPath, type ObjectInstanceNode, type ResourceNode } from '../../../lib/model';
import { ScriptedDevice } from '../../support/scripted-device';
import { bsRequest, RawPeer, startServer } from './helpers';

function opaque(id: number, len: number, fill: number): ResourceNode {
  const value = Buffer.alloc(len);
  for (let i = 0; i < len; i++) value[i] = (fill + i) & 0xff;
  return { kind: 'single', id, type: 'opaque', value };
}

/** An X.509 server account: certificates and key make it larger than one CoAP block. */
const X509_ACCOUNT: ObjectInstanceNode = {
  kind: 'instance',
  id: 1,
  resources: new Map<number, ResourceNode>([
    [0, { kind: 'single', id: 0, type: 'string', value: 'coaps://lwm2m.example.com:5684' }],
    [1, { kind: 'single', id: 1, type: 'boolean', value: false }],
    [2, { kind: 'single', id: 2, type: 'integer', value: 2 }],
    [3, opaque(3, 700, 1)],
    [4, opaque(4, 650, 2)],
    [5, opaque(5, 138, 3)],
    [10, { kind: 'single', id: 10, type: 'integer', value: 1 }],
  ]),
};

function nextSession(server: BootstrapServer): Promise<BootstrapSession> {
  return new Promise((resolve) => server.once('bootstrapRequest', resolve));
}

describe('block-wise transfers (RFC 7959)', () => {
  let server: BootstrapServer;
  let port: number;
  afterEach(async () => {
    await server.close();
  });

  it('sends a Bootstrap-Write larger than a block as Block1 parts that node-coap puts back together', async () => {
    ({ server, port } = await startServer());
    const dev = await ScriptedDevice.create();
    try {
      const sp = nextSession(server);
      server.once('bootstrapRequest', (s) => void s.accept());
      await dev.bootstrapRequest({ port }, { ep: 'x509' });
      const s = await sp;
      const expected = encode(11542, LwM2mPath.parse('/0/1'), X509_ACCOUNT, defaultModel);
      assert.ok(expected.length > 1024, `payload of ${expected.length} bytes`);
      const r = await s.send(new BootstrapWriteRequest('/0/1', X509_ACCOUNT, 11542));
      assert.equal(r.code, '2.04');
      assert.equal(r.success, true);
      const put = await dev.waitFor((x) => x.method === 'PUT');
      assert.equal(dev.wire.filter((x) => x.method === 'PUT').length, 2, 'two Block1 parts on the wire');
      assert.deepEqual(put.payload, expected);
      assert.equal(put.contentFormat, 11542);
    } finally {
      await dev.close();
    }
  });

  it('follows a device that asks for smaller blocks in its 2.31 Continue', async () => {
    ({ server, port } = await startServer());
    const peer = await RawPeer.create();
    try {
      const sp = nextSession(server);
      server.once('bootstrapRequest', (s) => void s.accept());
      peer.send(bsRequest('small-blocks', 1, Buffer.from('01', 'hex')), port);
      await peer.next((p) => p.code === '2.04');
      const s = await sp;
      const result = s.send(new BootstrapWriteRequest('/0/1', X509_ACCOUNT, 11542));
      const expected = encode(11542, LwM2mPath.parse('/0/1'), X509_ACCOUNT, defaultModel);
      const got: { num: number; more: number; szx: number; len: number }[] = [];
      const body: Buffer[] = [];
      let tokenHex: string | undefined;
      for (;;) {
        const req = await peer.next((p) => p.code === '0.03' && !got.some((g) => g.num === blockNum(p)));
        const b1 = req.options.find((o) => o.name === 'Block1')?.value ?? Buffer.alloc(0);
        let v = 0;
        for (const byte of b1) v = v * 256 + byte;
        const part = { num: v >> 4, more: (v >> 3) & 1, szx: v & 7, len: req.payload.length };
        got.push(part);
        body.push(req.payload);
        tokenHex ??= req.token.toString('hex');
        assert.equal(req.token.toString('hex'), tokenHex, 'same token for every block');
        if (part.more === 0) {
          peer.send({ code: '2.04', ack: true, messageId: req.messageId, token: req.token, options: [{ name: 'Block1', value: b1 }] }, port);
          break;
        }
        const ask = part.num === 0 ? Buffer.from([0x0c]) : b1; // block 0 of 1024 accepted, continue in 256-byte blocks
        peer.send({ code: '2.31', ack: true, messageId: req.messageId, token: req.token, options: [{ name: 'Block1', value: ask }] }, port);
      }
      assert.equal((await result).code, '2.04');
      assert.deepEqual(got[0], { num: 0, more: 1, szx: 6, len: 1024 });
      assert.equal(got[1].num, 4, 'NUM recounted from the byte offset: 1024 / 256');
      assert.ok(got.slice(1).every((g) => g.szx === 4));
      assert.deepEqual(Buffer.concat(body), expected);
    } finally {
      await peer.close();
    }
  });

  it('fetches a Bootstrap-Discover answer that comes in Block2 parts', async () => {
    ({ server, port } = await startServer());
    const dev = await ScriptedDevice.create();
    try {
      const links = ['</>;lwm2m=1.1', '</0/0>', '</1>', '</3/0>'];
      for (let i = 0; i < 250; i++) links.push(`</3303/${i}>`);
      dev.discover = links.join(',');
      assert.ok(dev.discover.length > 2048);
      const sp = nextSession(server);
      server.once('bootstrapRequest', (s) => void s.accept());
      await dev.bootstrapRequest({ port }, { ep: 'many' });
      const s = await sp;
      const r = await s.send(new BootstrapDiscoverRequest('/'));
      assert.equal(r.code, '2.05');
      assert.equal(r.payload.toString(), dev.discover);
      assert.equal(r.discover?.objects.find((o) => o.id === 3303)?.instances.length, 250);
      const gets = dev.wire.filter((x) => x.method === 'GET' && x.path === '/');
      assert.ok(gets.length >= 3, `one GET per block (${gets.length})`);
      assert.ok(gets.every((g) => g.token.equals(gets[0].token)), 'same token for every block');
    } finally {
      await dev.close();
    }
  });
});

function blockNum(p: { options: { name: string | number; value: Buffer }[] }): number {
  const b1 = p.options.find((o) => o.name === 'Block1')?.value ?? Buffer.alloc(0);
  let v = 0;
  for (const byte of b1) v = v * 256 + byte;
  return v >> 4;
}

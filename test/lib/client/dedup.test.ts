/**
 * The simulated device's duplicate detection (issue 20, client side): node-coap repeats a cached answer
 * to a request with the same source, Message ID and token. Several server instances behind one public
 * address:port (a load balancer or a NAT), each counting its own Message IDs and tokens, can send a
 * different request that matches all three; the device must serve it, and still answer a real
 * retransmission from its cache without running the request twice.
 */
import { strict as assert } from 'node:assert';
import type { ParsedPacket, Packet } from 'coap-packet';
import { DeviceEndpoint, type IncomingRequest } from '../../../lib/client/transport';
import { RawPeer, sleep } from '../bootstrap/helpers';

describe('simulated device duplicate detection behind a shared server address', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });

  /** A device endpoint that answers 2.05 with the requested path as payload, and the raw "servers". */
  async function setup(): Promise<{ device: DeviceEndpoint; served: IncomingRequest[]; servers: RawPeer }> {
    const device = await DeviceEndpoint.open({});
    cleanups.push(() => device.close());
    const served: IncomingRequest[] = [];
    device.onRequest(async (req) => {
      served.push(req);
      return { code: '2.05', payload: Buffer.from('/' + req.path.join('/')) };
    });
    const servers = await RawPeer.create();
    cleanups.push(() => servers.close());
    return { device, served, servers };
  }
  const get = (path: string, messageId: number, token: Buffer): Packet => ({
    code: '0.01',
    confirmable: true,
    messageId,
    token,
    options: path.split('/').filter(Boolean).map((seg) => ({ name: 'Uri-Path', value: Buffer.from(seg) })),
  });
  const answers = (servers: RawPeer) => servers.inbox.filter((m) => m.packet?.code === '2.05');
  async function answerCount(servers: RawPeer, n: number): Promise<{ packet?: ParsedPacket; raw: Buffer }[]> {
    const deadline = Date.now() + 3000;
    while (answers(servers).length < n && Date.now() < deadline) await sleep(10);
    return answers(servers);
  }

  it('serves a request with a used Message ID and token but another path, instead of repeating the old answer', async () => {
    const { device, served, servers } = await setup();
    const token = Buffer.alloc(0); // servers that send empty tokens: only the Message ID tells requests apart
    servers.send(get('/3/0', 0x0042, token), device.localPort);
    await answerCount(servers, 1);
    servers.send(get('/1/0', 0x0042, token), device.localPort); // another instance, same address:port and ID
    const got = await answerCount(servers, 2);
    assert.equal(got.length, 2);
    assert.deepEqual(served.map((r) => '/' + r.path.join('/')), ['/3/0', '/1/0']);
    assert.equal(got[1].packet?.payload.toString(), '/1/0', 'the answer to the second request, not the first one\'s');
  });

  it('serves a request with a used Message ID and another token', async () => {
    const { device, served, servers } = await setup();
    servers.send(get('/3/0', 0x0043, Buffer.from('01', 'hex')), device.localPort);
    await answerCount(servers, 1);
    servers.send(get('/3/0', 0x0043, Buffer.from('02', 'hex')), device.localPort);
    const got = await answerCount(servers, 2);
    assert.equal(served.length, 2);
    assert.deepEqual(got[1].packet?.token, Buffer.from('02', 'hex'));
  });

  it('answers a retransmission from its cache without serving the request again', async () => {
    const { device, served, servers } = await setup();
    const token = Buffer.from('0a0b', 'hex');
    servers.send(get('/3/0', 0x0044, token), device.localPort);
    await answerCount(servers, 1);
    servers.send(get('/3/0', 0x0044, token), device.localPort);
    const got = await answerCount(servers, 2);
    assert.equal(got.length, 2, 'the retransmission is answered');
    assert.deepEqual(got[1].raw, got[0].raw, 'with the cached datagram');
    assert.equal(served.length, 1, 'and the request ran once');
  });
});

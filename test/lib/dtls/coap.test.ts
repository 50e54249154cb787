import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as coap from 'coap';
import { generate, parse } from 'coap-packet';
import { KEY, closeClient, connectClient, roundTrip, startServer, type TestServer } from './support';

describe('node-coap Server over the DTLS socket', function () {
  let srv: TestServer;
  let server: coap.Server | undefined;
  afterEach(async () => {
    server?.close();
    server = undefined;
    await srv?.close();
  });

  it('answers a CoAP request that node-dtls-client sends over DTLS, with the PSK identity on rsinfo', async () => {
    srv = await startServer();
    assert.ok(srv.socket instanceof dgram.Socket, 'node-coap treats it as a dgram socket');
    const seen: unknown[] = [];
    server = coap.createServer((req, res) => {
      seen.push((req.rsinfo as unknown as { identity?: unknown }).identity);
      res.setOption('Content-Format', 'text/plain');
      res.end(`hello ${req.url}`);
    });
    await new Promise<void>((resolve) => server!.listen(srv.socket as unknown as dgram.Socket, () => resolve()));
    const client = await connectClient(srv.port, 'dev1', KEY);
    const request = generate({
      messageId: 4711,
      token: Buffer.from([1, 2, 3, 4]),
      code: 'GET',
      confirmable: true,
      options: [{ name: 'Uri-Path', value: Buffer.from('bs') }],
    });
    const answer = parse(await roundTrip(client, request));
    assert.equal(answer.code, '2.05');
    assert.equal(answer.messageId, 4711);
    assert.ok(answer.ack);
    assert.deepEqual(answer.token, Buffer.from([1, 2, 3, 4]));
    assert.equal(answer.payload.toString(), 'hello /bs');
    assert.deepEqual(seen, [{ type: 'psk', id: 'dev1', encoding: 'utf8' }]);

    // A retransmitted request is answered from node-coap's cache, not handled twice.
    const again = parse(await roundTrip(client, request));
    assert.equal(again.messageId, 4711);
    assert.equal(seen.length, 1);
    await closeClient(client);
  });

  it('lets a node-coap Agent on the same DTLS socket send a confirmable request to the device and get its response', async () => {
    srv = await startServer();
    server = coap.createServer(() => undefined);
    await new Promise<void>((resolve) => server!.listen(srv.socket as unknown as dgram.Socket, () => resolve()));
    const agent = new coap.Agent({ socket: srv.socket as unknown as dgram.Socket });
    const device = await connectClient(srv.port, 'dev1', KEY);
    const requests: string[] = [];
    device.on('message', (msg: Buffer) => {
      const p = parse(msg);
      requests.push(`${p.code} ${p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString()).join('/')} ${p.payload}`);
      device.send(generate({ messageId: p.messageId, token: p.token, code: '2.04', ack: true }));
    });
    const devicePort = srv.socket.peers()[0].port;
    const res = await new Promise<coap.IncomingMessage>((resolve, reject) => {
      const req = coap.request({ hostname: '127.0.0.1', port: devicePort, method: 'PUT', pathname: '/1/0/1', confirmable: true, agent });
      req.on('response', resolve);
      req.on('error', reject);
      req.end('86400');
    });
    assert.equal(res.code, '2.04');
    assert.deepEqual(requests, ['0.03 1/0/1 86400']);
    agent.close();
    await closeClient(device);
  });
});

/**
 * Issue 16: the listener's "PROXY protocol from" setting: off by default, IP addresses only (translated
 * error otherwise), and with it a Bootstrap-Request behind a balancer names the device, not the balancer.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from 'coap-packet';
import { readSettings, type ListenerDef } from '../../nodes/bootstrap-listener/settings';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { ALL_NODES, helper, statusCalls, until } from './support/runtime';

const BASE = { id: 'n', type: 'lwm2m-bootstrap-listener', name: '', z: '' } as unknown as ListenerDef;

function bsRequest(ep: string, mid: number): Buffer {
  return generate({
    code: '0.02',
    confirmable: true,
    messageId: mid,
    token: Buffer.from([mid & 0xff]),
    options: [{ name: 'Uri-Path', value: Buffer.from('bs') }, { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) }],
  });
}

describe('listener "PROXY protocol from" setting', () => {
  it('is off unless set, takes IP addresses separated by commas or spaces, for CoAP and CoAPs', () => {
    const off = readSettings({ ...BASE } as ListenerDef);
    assert.ok(typeof off !== 'string');
    assert.equal(off.proxyProtocolFrom, undefined);
    const on = readSettings({ ...BASE, transport: 'coaps', proxyFrom: ' 10.0.0.5, ::1 10.0.0.5' } as ListenerDef);
    assert.ok(typeof on !== 'string');
    assert.deepEqual(on.proxyProtocolFrom, ['10.0.0.5', '::1']);
  });

  it('refuses a host name or a network with an error that has en-US and German text', () => {
    const root = path.resolve(__dirname, '..', '..', '..', 'locales');
    for (const v of ['nginx.example', '10.0.0.0/8', '10.0.0.5;rm']) {
      assert.equal(readSettings({ ...BASE, proxyFrom: v } as ListenerDef), 'badProxyFrom', v);
    }
    for (const lang of ['en-US', 'de']) {
      const text = JSON.parse(fs.readFileSync(path.join(root, lang, 'bootstrap-listener.json'), 'utf8'))['lwm2m-bootstrap-listener'];
      assert.ok(text.errors.badProxyFrom, `${lang} errors.badProxyFrom`);
      assert.ok(text.label.proxyFrom && text.tip.proxyFrom && text.validation.proxyFrom && text.status.proxy, `${lang} label, tip, validation, status`);
    }
  });
});

describe('listener behind a balancer that sends the PROXY protocol', function () {
  this.timeout(20000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  async function requestVia(port: number, header: string, ep: string): Promise<Record<string, unknown>> {
    const got = new Promise<Record<string, unknown>>((resolve) => {
      helper.getNode('h-requests').on('input', (msg: { lwm2m?: Record<string, unknown> }) => {
        if (msg.lwm2m?.endpoint === ep) resolve(msg.lwm2m);
      });
    });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    try {
      sock.send(Buffer.concat([Buffer.from(header, 'latin1'), bsRequest(ep, 7)]), port, '127.0.0.1');
      return await got;
    } finally {
      sock.close();
    }
  }

  it('with the balancer listed, msg.lwm2m.peer is the device from the header and the status counts it', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { proxyFrom: '127.0.0.1' } }));
    const info = await requestVia(port, 'PROXY TCP4 198.51.100.20 127.0.0.1 40123 5683\r\n', 'pp-dev-1');
    assert.deepEqual(info.peer, { address: '198.51.100.20', port: 40123, family: 'IPv4' });
    await until(() => statusCalls(helper.getNode('n-listener')).some((st) => /status\.proxy/.test(String(st.text))), 3000, 'status shows PROXY');
  });

  it('without the setting a header is not believed: the datagram is malformed and nothing reaches the flow', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true }));
    const l = helper.getNode('n-listener') as unknown as { serverStats(): { malformed: number } };
    let seen = 0;
    helper.getNode('h-requests').on('input', () => seen++);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    try {
      sock.send(Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.20 127.0.0.1 40123 5683\r\n'), bsRequest('pp-dev-2', 8)]), port, '127.0.0.1');
      await until(() => l.serverStats()?.malformed === 1, 5000, 'the datagram counted malformed');
      assert.equal(seen, 0);
    } finally {
      sock.close();
    }
  });
});

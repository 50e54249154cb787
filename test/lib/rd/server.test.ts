import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as coap from 'coap';
import { RegistrationServer, instanceLinks, type Registration } from '../../../lib/rd/server';
import { markAfter } from '../../support/timer-mark';

interface Res {
  code: string;
  location: string[];
  payload: string;
}

/** A plain CoAP client on its own socket (the device side), via node-coap's Agent. */
async function device(): Promise<{ req: (method: string, path: string, query?: string, payload?: string) => Promise<Res>; sock: dgram.Socket; agent: coap.Agent; server: coap.Server }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const agent = new coap.Agent({ socket: sock });
  const server = new coap.Server();
  server.listen(sock);
  return {
    sock,
    agent,
    server,
    req: (method, pathname, query, payload) =>
      new Promise<Res>((resolve, reject) => {
        const r = agent.request({ hostname: '127.0.0.1', port: rdPort, method: method as 'POST', pathname, query, contentFormat: payload ? 40 : undefined });
        r.on('response', (res: coap.IncomingMessage) => {
          const opts = (res._packet.options ?? []) as { name: string; value: Buffer | string }[];
          resolve({
            code: res.code,
            location: opts.filter((o) => o.name === 'Location-Path').map((o) => String(o.value)),
            payload: res.payload.toString(),
          });
        });
        r.on('error', reject);
        r.end(payload ? Buffer.from(payload) : undefined);
      }),
  };
}

let rdPort = 0;

describe('RegistrationServer (minimal LwM2M registration interface)', () => {
  let rd: RegistrationServer;
  beforeEach(async () => {
    rd = await new RegistrationServer({ graceSec: 0 }).listen();
    rdPort = rd.port;
  });
  afterEach(async () => {
    await rd.close();
  });

  it('Register answers 2.01 with Location-Path rd/<id>; Update 2.04; De-register 2.02', async () => {
    const d = await device();
    try {
      const registered = new Promise<Registration>((r) => rd.once('registered', r));
      const res = await d.req('POST', '/rd', 'ep=meter-1&lt=300&lwm2m=1.1&b=U', '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</5>');
      assert.equal(res.code, '2.01');
      assert.equal(res.location.length, 2);
      assert.equal(res.location[0], 'rd');
      const reg = await registered;
      assert.equal(reg.endpoint, 'meter-1');
      assert.equal(reg.lifetime, 300);
      assert.equal(reg.lwm2mVersion, '1.1');
      assert.deepEqual(reg.instances, ['/1/0', '/3/0']);
      assert.equal(reg.port, d.sock.address().port);
      assert.equal(rd.byEndpoint('meter-1')?.id, res.location[1]);

      const upd = await d.req('POST', `/rd/${res.location[1]}`, 'lt=60');
      assert.equal(upd.code, '2.04');
      assert.equal(rd.registrations.get(res.location[1])?.lifetime, 60);
      assert.equal(rd.registrations.get(res.location[1])?.updates, 1);

      assert.equal((await d.req('DELETE', `/rd/${res.location[1]}`)).code, '2.02');
      assert.equal(rd.registrations.size, 0);
      assert.equal((await d.req('POST', `/rd/${res.location[1]}`)).code, '4.04');
    } finally {
      d.server.close();
      d.agent.close();
      d.sock.close();
    }
  });

  it('refuses a Register without ep; a new Register of the same endpoint replaces the old one', async () => {
    const d = await device();
    try {
      assert.equal((await d.req('POST', '/rd', 'lt=60', '</1/0>')).code, '4.00');
      const a = await d.req('POST', '/rd', 'ep=x&lt=60', '</1/0>');
      const b = await d.req('POST', '/rd', 'ep=x&lt=60', '</1/0>');
      assert.notEqual(a.location[1], b.location[1]);
      assert.equal(rd.registrations.size, 1);
    } finally {
      d.server.close();
      d.agent.close();
      d.sock.close();
    }
  });

  it('expires a registration after its lifetime', async () => {
    const d = await device();
    try {
      const expired = new Promise<Registration>((r) => rd.once('expired', r));
      const lifetimeNear = markAfter(900);
      await d.req('POST', '/rd', 'ep=short&lt=1', '</1/0>');
      assert.equal((await expired).endpoint, 'short');
      assert.ok(lifetimeNear.fired, 'not before its 1 s lifetime');
      assert.equal(rd.registrations.size, 0);
    } finally {
      d.server.close();
      d.agent.close();
      d.sock.close();
    }
  });

  it('executes a resource on the registered device, from the socket the device registered with', async () => {
    const d = await device();
    try {
      const seen: string[] = [];
      d.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => {
        seen.push(`${req.method} ${req.url}`);
        res.code = '2.04';
        res.end();
      });
      await d.req('POST', '/rd', 'ep=exec&lt=60', '</1/4>,</3/0>');
      assert.equal(await rd.bootstrapTrigger('exec'), '2.04');
      assert.deepEqual(seen, ['POST /1/4/9']);
      await assert.rejects(rd.execute('nobody', '/1/0/9'), /not registered/);
      await assert.rejects(rd.execute('exec', '/1/0'), /needs \/O\/I\/R/);
    } finally {
      d.server.close();
      d.agent.close();
      d.sock.close();
    }
  });

  it('instanceLinks keeps instance links only', () => {
    assert.deepEqual(instanceLinks('</>;rt="oma.lwm2m",</1>;ver=1.1,</1/0>,</3/0/>,</5>'), ['/1/0', '/3/0']);
  });
});

/**
 * Issue 12, "one host starves everyone" and endpoint names: per-source caps on pending sessions and shedding
 * of the oldest pending work, answers no larger than the request, cancellation only from the same source,
 * endpoint names of at most 255 bytes of valid UTF-8, and pct=11543 served. Outcomes are counted, never timed.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'dgram';
import { generate, parse, type Packet } from 'coap-packet';
import { BootstrapDeleteRequest, BootstrapServer, runBootstrap, SessionOutcome, type BootstrapSession } from '../../../lib/bootstrap';
import { SimulatedClient } from '../../../lib/client/client';
import { RegistrationServer } from '../../../lib/rd/server';
import { PendingBySource } from '../../../lib/bootstrap/fairness';
import { contentFormatFor } from '../../../lib/profile/plan';
import { validatedProfile } from '../../../lib/profile/validated';
import { ScriptedDevice } from '../../support/scripted-device';
import { startServer } from './helpers';

/** A raw UDP peer on a chosen loopback address that records every answer with its size. */
class Peer {
  readonly answers: { packet: ReturnType<typeof parse>; size: number }[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (m) => {
      try {
        this.answers.push({ packet: parse(m), size: m.length });
      } catch {
        // not CoAP: ignored
      }
    });
  }
  static async create(address = '127.0.0.1'): Promise<Peer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
    return new Peer(s);
  }
  send(buf: Buffer, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }
  async answerTo(mid: number, timeoutMs = 3000): Promise<{ packet: ReturnType<typeof parse>; size: number }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const a = this.answers.find((x) => x.packet.messageId === mid);
      if (a) return a;
      if (Date.now() > end) throw new Error(`no answer to MID ${mid}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function bs(ep: Buffer | string, mid: number, extra: Packet['options'] = []): Buffer {
  const q = Buffer.concat([Buffer.from('ep='), Buffer.isBuffer(ep) ? ep : Buffer.from(ep, 'utf8')]);
  return generate({
    code: '0.02',
    messageId: mid,
    token: Buffer.from([mid & 0xff, 1]),
    confirmable: true,
    options: [{ name: 'Uri-Path', value: Buffer.from('bs') }, { name: 'Uri-Query', value: q }, ...(extra ?? [])],
  });
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('BootstrapServer under pressure (issue 12)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });
  async function server(opts: ConstructorParameters<typeof BootstrapServer>[0] = {}) {
    const r = await startServer(opts);
    cleanups.push(() => r.server.close());
    return r;
  }
  async function peer(address?: string) {
    const p = await Peer.create(address);
    cleanups.push(() => p.close());
    return p;
  }
  async function device(address?: string) {
    const d = await ScriptedDevice.create(address ? { address } : undefined);
    cleanups.push(() => d.close());
    return d;
  }

  describe('no amplification', () => {
    it('answers a 4-byte GET to an unknown path with a 4-byte 4.04 (no diagnostic)', async () => {
      const { port } = await server();
      const p = await peer();
      p.send(Buffer.from([0x40, 0x01, 0x12, 0x34]), port); // CON GET, no token, no options
      const a = await p.answerTo(0x1234);
      assert.equal(a.packet.code, '4.04');
      assert.equal(a.size, 4);
      assert.equal(a.packet.payload.length, 0);
    });

    it('never answers an unauthenticated request that the server refuses with more bytes than it sent', async () => {
      const { port } = await server();
      const p = await peer();
      const requests: Buffer[] = [
        generate({ confirmable: true, code: '0.01', messageId: 1, token: Buffer.alloc(0), options: [{ name: 'Uri-Path', value: Buffer.from('x') }] }),
        generate({ confirmable: true, code: '0.01', messageId: 2, token: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), options: [] }),
        generate({ confirmable: true, code: '0.01', messageId: 3, token: Buffer.alloc(0), options: [{ name: 'Uri-Path', value: Buffer.from('bs') }] }),
        generate({ confirmable: true, code: '0.02', messageId: 4, token: Buffer.alloc(0), options: [{ name: 'Uri-Path', value: Buffer.from('bs') }] }),
        generate({ confirmable: true, code: '0.03', messageId: 5, token: Buffer.alloc(0), options: [{ name: 'Uri-Path', value: Buffer.from('bspack') }] }),
        generate({ confirmable: true, code: '0.01', messageId: 6, token: Buffer.alloc(0), options: [{ name: 'Uri-Path', value: Buffer.from('bspack') }, { name: 'Uri-Query', value: Buffer.from('ep=a') }, { name: 'Accept', value: Buffer.from([42]) }] }),
        generate({ confirmable: true, code: '0.02', messageId: 7, token: Buffer.alloc(0), options: [{ name: 'Uri-Path', value: Buffer.from('bs') }, { name: 'Uri-Query', value: Buffer.from('ep=a') }, { name: 'Uri-Query', value: Buffer.from('pct=9') }] }),
        bs('x'.repeat(300), 8),
        bs(Buffer.from([0xc3, 0x28]), 9),
      ];
      const codes: string[] = [];
      for (const r of requests) {
        const mid = parse(r).messageId;
        p.send(r, port);
        const a = await p.answerTo(mid);
        codes.push(a.packet.code);
        assert.ok(a.size <= r.length, `answer ${a.packet.code} of ${a.size} bytes to a request of ${r.length}`);
      }
      assert.deepEqual(codes, ['4.04', '4.04', '4.05', '4.00', '4.05', '4.06', '4.00', '4.00', '4.00']);
    });
  });

  describe('endpoint names', () => {
    it('refuses names over 255 bytes, with control characters, or not UTF-8, and never collapses two invalid names into one', async () => {
      const { server: srv, port } = await server();
      const seen: string[] = [];
      srv.on('bootstrapRequest', (s) => {
        seen.push(s.endpoint);
        void s.reject('4.03');
      });
      const p = await peer();
      const cases: [Buffer | string, string][] = [
        ['é'.repeat(127) + 'a', '4.03'], // 255 bytes: served (and rejected by the flow)
        ['é'.repeat(128), '4.00'], // 256 bytes
        ['dev\n[error] forged', '4.00'],
        ['dev\u001b[31m', '4.00'],
        [Buffer.from([0x64, 0xff]), '4.00'],
        [Buffer.from([0x64, 0xfe]), '4.00'],
        [Buffer.from([0x64, 0xc3]), '4.00'],
      ];
      let mid = 100;
      for (const [ep, code] of cases) {
        p.send(bs(ep, ++mid), port);
        assert.equal((await p.answerTo(mid)).packet.code, code, `ep ${JSON.stringify(String(ep))}`);
      }
      assert.deepEqual(seen, ['é'.repeat(127) + 'a']);
      assert.equal(srv.stats().started, 1);
    });

    it('reads a query option byte for byte: a leading U+FEFF stays part of it (no ep), one inside the name is kept', async () => {
      const { server: srv, port } = await server();
      const seen: string[] = [];
      srv.on('bootstrapRequest', (s) => {
        seen.push(s.endpoint);
        void s.reject('4.03');
      });
      const p = await peer();
      const bom = Buffer.from('\uFEFFep=dev-bom', 'utf8');
      p.send(generate({ code: '0.02', messageId: 7, token: Buffer.from([7, 1]), confirmable: true, options: [{ name: 'Uri-Path', value: Buffer.from('bs') }, { name: 'Uri-Query', value: bom }] }), port);
      assert.equal((await p.answerTo(7)).packet.code, '4.00', 'the option names "\uFEFFep", not ep');
      p.send(bs('\uFEFFdev', 8), port);
      assert.equal((await p.answerTo(8)).packet.code, '4.03');
      assert.deepEqual(seen, ['\uFEFFdev']);
    });

    it('takes the limit from maxEndpointBytes', async () => {
      const { server: srv, port } = await server({ maxEndpointBytes: 8 });
      srv.on('bootstrapRequest', (s) => void s.reject('4.03'));
      const p = await peer();
      p.send(bs('12345678', 1), port);
      p.send(bs('123456789', 2), port);
      assert.equal((await p.answerTo(1)).packet.code, '4.03');
      assert.equal((await p.answerTo(2)).packet.code, '4.00');
    });
  });

  describe('cancellation', () => {
    it('a Bootstrap-Request from another source does not cancel a running session: 5.03, and the first device finishes', async () => {
      const { server: srv, port } = await server();
      const owner = await device();
      const other = await device();
      const sessions: BootstrapSession[] = [];
      srv.on('bootstrapRequest', (s) => {
        sessions.push(s);
        void s.accept();
      });
      assert.equal((await owner.bootstrapRequest({ port }, { ep: 'victim' })).code, '2.04');
      const res = await other.bootstrapRequest({ port }, { ep: 'victim' });
      assert.equal(res.code, '5.03');
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].state, 'accepted');
      assert.equal((await sessions[0].finish()).code, '2.04');
      assert.equal(sessions[0].outcome, SessionOutcome.SUCCESS);
      assert.equal(srv.stats().otherSource, 1);
    });
  });

  describe('per-source caps and shedding', () => {
    it('sheds the oldest pending session of a source past maxPendingPerSource', async () => {
      const { server: srv, port } = await server({ maxPendingPerSource: 3 });
      const sessions: BootstrapSession[] = [];
      srv.on('bootstrapRequest', (s) => sessions.push(s)); // never decided: pending
      const p = await peer();
      for (let i = 1; i <= 5; i++) p.send(bs(`spoof-${i}`, i), port);
      await waitUntil(() => sessions.length === 5, 'five sessions');
      assert.deepEqual(sessions.map((s) => s.state), ['ended', 'ended', 'pending', 'pending', 'pending']);
      assert.deepEqual(sessions.slice(0, 2).map((s) => s.outcome), [SessionOutcome.CANCELLED, SessionOutcome.CANCELLED]);
      assert.equal((await p.answerTo(1)).packet.code, '5.03', 'the shed request is answered 5.03');
      const st = srv.stats();
      assert.equal(st.shed.perSource, 2);
      assert.equal(st.sessionsInFlight, 3);
      assert.equal(st.pending, 3);
    });

    it('when full, sheds the oldest pending session of the busiest source so a device from elsewhere bootstraps', async () => {
      const { server: srv, port } = await server({ maxSessions: 6, maxPendingPerSource: 100 });
      srv.on('bootstrapRequest', (s) => {
        void (async () => {
          await s.accept();
          await s.send(new BootstrapDeleteRequest('/0'));
          await s.finish();
        })().catch(() => undefined);
      });
      // Two flooding sources that never answer: 127.0.0.1 (ten requests) and 127.0.0.3 (two).
      const flood = await peer('127.0.0.1');
      const small = await peer('127.0.0.3');
      for (let i = 1; i <= 10; i++) flood.send(bs(`spoof-${i}`, i), port);
      for (let i = 1; i <= 2; i++) small.send(bs(`small-${i}`, 50 + i), port);
      await waitUntil(() => srv.stats().started === 12, 'twelve sessions started');
      const before = srv.stats();
      assert.equal(before.sessionsInFlight, 6);
      assert.equal(before.busy, 0, 'nobody was refused: pending sessions were shed');
      // The well-behaved device, from a third address, arrives while the table is full of pending work.
      const dev = await device('127.0.0.2');
      assert.equal((await dev.bootstrapRequest({ port }, { ep: 'good' })).code, '2.04');
      await dev.waitFor((r) => r.method === 'POST' && r.path === '/bs');
      await waitUntil(() => srv.stats().succeeded === 1, 'the good device finished');
      const st = srv.stats();
      assert.ok(st.shed.full >= 7, `shed ${st.shed.full}`);
      assert.equal(st.busy, 0);
      assert.equal(srv.findSessionByEndpoint('small-2')?.state, 'accepted', 'the lighter source kept its session');
    });

    it('answers 5.03 only when every session has a device that answered', async () => {
      const { server: srv, port } = await server({ maxSessions: 1 });
      let first: BootstrapSession | undefined;
      srv.once('bootstrapRequest', (s) => {
        first = s;
        void s.accept();
      });
      const a = await device();
      assert.equal((await a.bootstrapRequest({ port }, { ep: 'answered' })).code, '2.04');
      await first!.send(new BootstrapDeleteRequest('/0'));
      assert.equal(first!.deviceAnswered, true);
      const b = await device('127.0.0.2');
      assert.equal((await b.bootstrapRequest({ port }, { ep: 'late' })).code, '5.03');
      assert.equal(srv.stats().busy, 1);
      assert.equal(first!.state, 'accepted');
    });
  });

  describe('pct=11543 (LwM2M JSON)', () => {
    it('is served, not refused: the session keeps 11543 and the Writes go in SenML JSON', async () => {
      const { server: srv, port } = await server();
      const dev = await device();
      const got = new Promise<BootstrapSession>((resolve) => srv.once('bootstrapRequest', resolve));
      const res = dev.bootstrapRequest({ port }, { ep: 'json-1', pct: 11543 });
      const s = await got;
      assert.equal(s.preferredContentFormat, 11543);
      assert.equal(s.lwm2mVersion, '1.1');
      assert.equal(contentFormatFor({ servers: [] }, s.preferredContentFormat), 110);
      await s.accept();
      assert.equal((await res).code, '2.04');
      void s.end(SessionOutcome.CANCELLED);
    });

    it('a simulated 1.1 device asking pct=11543 is provisioned in SenML JSON and registers', async () => {
      const rd = await new RegistrationServer().listen();
      cleanups.push(() => rd.close());
      const { server: srv, port } = await server();
      const formats: number[] = [];
      srv.on('bootstrapRequest', (s) => {
        void (async () => {
          const run = await runBootstrap(s, validatedProfile({ servers: [{ shortServerId: 101, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 60 }] }));
          for (const st of run.steps) if ('contentFormat' in st.request) formats.push(st.request.contentFormat);
          await s.finish();
        })().catch(() => undefined);
      });
      const c = new SimulatedClient({
        endpoint: 'json-dev',
        version: '1.1',
        formats: [11543, 110],
        bootstrapServer: { uri: `coap://127.0.0.1:${port}` },
        timing: { minHoldOffMs: 0, jitter: 0, backoffMaxMs: 200, requestTimeoutMs: 3000, bootstrapTimeoutMs: 3000 },
      });
      cleanups.push(() => c.stop(false));
      const registered = new Promise((resolve) => rd.once('registered', resolve));
      await c.start();
      await registered;
      assert.ok(formats.length > 0 && formats.every((f) => f === 110), `writes in ${formats.join(',')}`);
    });
  });
});

describe('PendingBySource', () => {
  type S = { peer: { address: string }; name: string; live: boolean };
  const mk = (address: string, name: string): S => ({ peer: { address }, name, live: true });

  it('counts per source and finds the oldest pending session of the heaviest source', () => {
    const t = new PendingBySource<S>((s) => s.live);
    const a1 = mk('a', 'a1');
    const a2 = mk('a', 'a2');
    const a3 = mk('a', 'a3');
    const b1 = mk('b', 'b1');
    const b2 = mk('b', 'b2');
    for (const s of [b1, a1, a2, b2, a3]) t.add(s);
    assert.equal(t.count('a'), 3);
    assert.equal(t.heaviest()?.name, 'a1');
    a1.live = false; // the device answered: no longer pending
    assert.equal(t.count('a'), 2);
    // a and b now hold two each: either source's oldest is a fair choice
    assert.ok(['a2', 'b1'].includes(t.heaviest()?.name ?? ''));
    t.delete(a2);
    t.delete(a3);
    assert.equal(t.heaviest()?.name, 'b1');
    t.delete(b1);
    t.delete(b2);
    assert.equal(t.heaviest(), undefined);
    assert.equal(t.sources, 0);
  });
});

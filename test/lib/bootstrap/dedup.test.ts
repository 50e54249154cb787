/**
 * Duplicate detection behind a NAT (issue 20). RFC 7252 §4.5 matches duplicates on source endpoint and
 * Message ID; behind a carrier-grade NAT successive devices share one public address:port and pick
 * random first Message IDs, so a new device's request can carry the ID of an earlier device's request
 * from the same mapping. Each device here is one RawPeer socket sending as several devices would
 * through one mapping.
 */
import { strict as assert } from 'node:assert';
import { BootstrapDeleteRequest, BootstrapServer, type BootstrapSession } from '../../../lib/bootstrap';
import fc from 'fast-check';
import { DedupCache, MapFront, messageDigest } from '../../../lib/bootstrap/coap/dedup';
import { bsRequest, RawPeer, sleep, startServer } from './helpers';

describe('BootstrapServer duplicate detection behind a NAT', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });
  async function server(opts: ConstructorParameters<typeof BootstrapServer>[0] = {}) {
    const r = await startServer({ requestTimeoutMs: 5000, ...opts });
    cleanups.push(() => r.server.close());
    return r;
  }
  async function natMapping() {
    const r = await RawPeer.create();
    cleanups.push(() => r.close());
    return r;
  }
  /** Accepts every Bootstrap-Request and records the sessions in order. */
  function acceptAll(srv: BootstrapServer): BootstrapSession[] {
    const sessions: BootstrapSession[] = [];
    srv.on('bootstrapRequest', (s: BootstrapSession) => {
      sessions.push(s);
      void s.accept().catch(() => undefined);
    });
    return sessions;
  }
  const answersWith = (peer: RawPeer, token: Buffer) => peer.inbox.filter((m) => m.packet?.code === '2.04' && m.packet.token.equals(token));

  it('a second device from the same address:port with the same Message ID gets its own session, not the first one\'s cached ACK', async () => {
    const { server: srv, port } = await server();
    const sessions = acceptAll(srv);
    const nat = await natMapping();
    const first = Buffer.from('b9040709', 'hex');
    const second = Buffer.from('4f110709', 'hex');
    // The capture of issue 20: CON POST /bs, MID 0x769d, from one mapping, two devices.
    nat.send(bsRequest('rp7-4430', 0x769d, first), port);
    await nat.next((p) => p.code === '2.04' && p.token.equals(first));
    nat.send(bsRequest('rp7-4431', 0x769d, second), port);
    const ack = await nat.next((p) => p.code === '2.04' && p.token.equals(second));
    assert.equal(ack.messageId, 0x769d);
    assert.ok(ack.ack, 'piggy-backed in the ACK');
    assert.deepEqual(sessions.map((s) => s.endpoint), ['rp7-4430', 'rp7-4431']);
    assert.equal(answersWith(nat, first).length, 1, 'the first device\'s answer was not repeated to the second');
    assert.equal(srv.findSessionByEndpoint('rp7-4431'), sessions[1]);
  });

  it('still answers a retransmission of the second device\'s request from the cache, without a third session', async () => {
    const { server: srv, port } = await server();
    const sessions = acceptAll(srv);
    const nat = await natMapping();
    const first = Buffer.from('b9040709', 'hex');
    const second = Buffer.from('4f110709', 'hex');
    nat.send(bsRequest('rp7-4430', 0x769d, first), port);
    await nat.next((p) => p.code === '2.04' && p.token.equals(first));
    nat.send(bsRequest('rp7-4431', 0x769d, second), port);
    await nat.next((p) => p.code === '2.04' && p.token.equals(second));
    nat.send(bsRequest('rp7-4431', 0x769d, second), port); // its retransmission
    const deadline = Date.now() + 3000;
    while (answersWith(nat, second).length < 2 && Date.now() < deadline) await sleep(10);
    const answers = answersWith(nat, second);
    assert.equal(answers.length, 2, 'the retransmission is answered');
    assert.deepEqual(answers[1].raw, answers[0].raw, 'with the same datagram');
    assert.equal(sessions.length, 2, 'and no new session');
  });

  it('a request with the same Message ID and token but another endpoint is a new request', async () => {
    const { server: srv, port } = await server();
    const sessions = acceptAll(srv);
    const nat = await natMapping();
    const token = Buffer.from('0001', 'hex'); // firmware that counts its tokens from the same start
    nat.send(bsRequest('dev-a', 0x0100, token), port);
    await nat.next((p) => p.code === '2.04');
    nat.send(bsRequest('dev-b', 0x0100, token), port);
    const deadline = Date.now() + 3000;
    while (sessions.length < 2 && Date.now() < deadline) await sleep(10);
    assert.deepEqual(sessions.map((s) => s.endpoint), ['dev-a', 'dev-b']);
  });

  it('a separate response that reuses an earlier one\'s Message ID with another token reaches its request', async () => {
    const { server: srv, port } = await server();
    const sessions = acceptAll(srv);
    const nat = await natMapping();
    nat.send(bsRequest('sep', 0x0200, Buffer.from('aa', 'hex')), port);
    await nat.next((p) => p.code === '2.04');
    const s = sessions[0];
    /** Answers the server's DELETE with an empty ACK, then a separate CON 2.02 with Message ID `mid`. */
    const answerSeparately = async (path: string, mid: number) => {
      const req = await nat.next((p) => p.code === '0.04' && p.options.some((o) => o.name === 'Uri-Path' && o.value.toString() === path.slice(1)));
      nat.send({ code: '0.00', messageId: req.messageId, ack: true }, port);
      nat.send({ code: '2.02', messageId: mid, token: req.token, confirmable: true }, port);
      return req;
    };
    const r1 = s.send(new BootstrapDeleteRequest('/1'));
    await answerSeparately('/1', 0x5000);
    assert.equal((await r1).code, '2.02');
    const r2 = s.send(new BootstrapDeleteRequest('/2'));
    const req2 = await answerSeparately('/2', 0x5000); // the same Message ID, another token
    assert.equal((await r2).code, '2.02', 'the second response was processed, not taken for a duplicate');
    // A retransmission of that response is ACKed again from the cache.
    nat.send({ code: '2.02', messageId: 0x5000, token: req2.token, confirmable: true }, port);
    const deadline = Date.now() + 3000;
    const acks = () => nat.inbox.filter((m) => m.packet?.ack && m.packet.code === '0.00' && m.packet.messageId === 0x5000).length;
    while (acks() < 3 && Date.now() < deadline) await sleep(10);
    assert.equal(acks(), 3);
  });
});

describe('DedupCache', () => {
  const msg = (mid: number, token: string, ep: string) =>
    Buffer.concat([Buffer.from([0x40 | token.length / 2, 0x02, mid >> 8, mid & 0xff]), Buffer.from(token, 'hex'), Buffer.from([0xb2, 0x62, 0x73, 0x40 + ep.length]), Buffer.from(ep)]);

  it('the digest ignores the Message ID and sees token, options and payload', () => {
    assert.equal(messageDigest(msg(1, 'aabb', 'ep=a')), messageDigest(msg(2, 'aabb', 'ep=a')));
    assert.notEqual(messageDigest(msg(1, 'aabb', 'ep=a')), messageDigest(msg(1, 'aabc', 'ep=a')));
    assert.notEqual(messageDigest(msg(1, 'aabb', 'ep=a')), messageDigest(msg(1, 'aabb', 'ep=b')));
    assert.notEqual(messageDigest(msg(1, 'aabb', 'ep=a')), messageDigest(Buffer.concat([msg(1, 'aabb', 'ep=a'), Buffer.from([0xff, 1])])));
  });

  it('finds an entry only for the same message, and drops the stale one for another', () => {
    const c = new DedupCache(1000, 10);
    const a = messageDigest(msg(7, '01', 'ep=a'));
    const b = messageDigest(msg(7, '02', 'ep=b'));
    c.add('p|7', a, 0).reply = Buffer.from('reply');
    assert.ok(c.get('p|7', a, 10), 'a retransmission finds it');
    assert.equal(c.get('p|7', b, 20), undefined, 'another message does not');
    assert.equal(c.size, 0, 'and the stale entry is gone');
    assert.equal(c.stale, 1);
    assert.equal(c.get('p|7', a, 30), undefined, 'so the first message is not answered from it either');
    c.add('p|8', a, 0);
    assert.equal(c.get('p|8', a, 1000), undefined, 'entries expire after the lifetime');
  });
});

describe('MapFront (sweeping a Map from its oldest entry)', () => {
  it('always finds the oldest entry, across deletions anywhere, moves to the back and new entries', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('move' as const), key: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('shift' as const), key: fc.constant(0) }),
      fc.record({ kind: fc.constant('clear' as const), key: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const map = new Map<number, { n: number }>();
        const front = new MapFront(map);
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'set') {
            map.delete(o.key);
            map.set(o.key, { n: n++ });
          } else if (o.kind === 'delete') map.delete(o.key);
          else if (o.kind === 'move') {
            const v = map.get(o.key);
            if (v !== undefined) {
              front.moving(v);
              map.delete(o.key);
              map.set(o.key, v);
            }
          } else if (o.kind === 'shift') {
            if (front.peek() !== undefined) front.shift();
          } else {
            map.clear();
            front.reset();
          }
          const oldest = map.entries().next();
          const h = front.peek();
          if (oldest.done) assert.equal(h, undefined);
          else assert.deepEqual(h, oldest.value);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a full cache at its bound by dropping the oldest entries first', () => {
    const c = new DedupCache(1_000_000, 100);
    for (let i = 0; i < 1000; i++) c.add('p|' + i, i, i);
    assert.equal(c.size, 100);
    assert.equal(c.get('p|899', 899, 1000), undefined, 'the 101st newest is gone');
    assert.ok(c.get('p|900', 900, 1000), 'the 100 newest are kept');
    assert.ok(c.get('p|999', 999, 1000));
  });
});

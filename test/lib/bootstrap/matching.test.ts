/**
 * How answers to our requests are matched (RFC 7252 §5.3.2, §4.4): by Message ID and the peer for ACKs,
 * by the whole token for separate responses. Message IDs key our table alone and tokens by their counter
 * half, so these tests check that a datagram from another peer, or with the right counter half but other
 * random bytes, is not taken for the answer.
 */
import { strict as assert } from 'node:assert';
import { BootstrapDeleteRequest, BootstrapServer, type BootstrapSession } from '../../../lib/bootstrap';
import { bsRequest, RawPeer, sleep, startServer } from './helpers';

function nextSession(server: BootstrapServer): Promise<BootstrapSession> {
  return new Promise((resolve) => server.once('bootstrapRequest', resolve));
}

describe('BootstrapServer: matching answers to requests', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });
  async function setup(ep: string) {
    const r = await startServer({ requestTimeoutMs: 5000 });
    cleanups.push(() => r.server.close());
    const peer = await RawPeer.create();
    cleanups.push(() => peer.close());
    const other = await RawPeer.create();
    cleanups.push(() => other.close());
    const sp = nextSession(r.server);
    r.server.once('bootstrapRequest', (s) => void s.accept());
    peer.send(bsRequest(ep, 11, Buffer.from('0b0b', 'hex')), r.port);
    await peer.next((p) => p.code === '2.04');
    const s = await sp;
    return { port: r.port, peer, other, s };
  }

  it('uses 8-byte tokens whose counter half differs per request', async () => {
    const { port, peer, s } = await setup('tokens');
    const a = s.send(new BootstrapDeleteRequest('/1'));
    const r1 = await peer.next((p) => p.code === '0.04');
    peer.send({ code: '2.02', ack: true, messageId: r1.messageId, token: r1.token }, port);
    await a;
    const b = s.send(new BootstrapDeleteRequest('/2'));
    const r2 = await peer.next((p) => p.code === '0.04' && p.messageId !== r1.messageId);
    peer.send({ code: '2.02', ack: true, messageId: r2.messageId, token: r2.token }, port);
    await b;
    assert.equal(r1.token.length, 8);
    assert.equal(r2.token.length, 8);
    assert.notDeepEqual(r1.token.subarray(4), r2.token.subarray(4));
  });

  it('ignores an ACK with our Message ID from another peer, and one with another token', async () => {
    const { port, peer, other, s } = await setup('acks');
    let settled = false;
    const result = s.send(new BootstrapDeleteRequest('/1')).finally(() => (settled = true));
    const req = await peer.next((p) => p.code === '0.04');
    other.send({ code: '2.02', ack: true, messageId: req.messageId, token: req.token }, port);
    const wrong = Buffer.from(req.token);
    wrong[0] ^= 0xff; // same counter half, other random half
    peer.send({ code: '2.02', ack: true, messageId: req.messageId, token: wrong }, port);
    await sleep(100);
    assert.equal(settled, false, 'neither answer was taken');
    peer.send({ code: '2.02', ack: true, messageId: req.messageId, token: req.token }, port);
    assert.equal((await result).code, '2.02');
  });

  it('ignores a separate response whose token differs in its random half', async () => {
    const { port, peer, s } = await setup('separate');
    let settled = false;
    const result = s.send(new BootstrapDeleteRequest('/1')).finally(() => (settled = true));
    const req = await peer.next((p) => p.code === '0.04');
    peer.send({ code: '0.00', ack: true, messageId: req.messageId }, port); // empty ACK: the answer comes later
    await sleep(50);
    const wrong = Buffer.from(req.token);
    wrong[3] ^= 0x01;
    peer.send({ code: '2.02', confirmable: true, messageId: 0x2222, token: wrong }, port);
    const rst = await peer.next((p) => p.reset && p.messageId === 0x2222);
    assert.equal(rst.code, '0.00');
    assert.equal(settled, false);
    peer.send({ code: '2.02', confirmable: true, messageId: 0x2223, token: req.token }, port);
    await peer.next((p) => p.ack && p.messageId === 0x2223);
    assert.equal((await result).code, '2.02');
  });
});

/**
 * Our requests in their first ACK_TIMEOUT share one timer (CoapEndpoint.watchYoung): the ones answered or
 * acknowledged in time leave it and are never retransmitted; the others get their own retransmission timer
 * (RFC 7252 §4.2). Real sockets on loopback, ACK_TIMEOUT 500 ms.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'dgram';
import { CoapEndpoint, type OutboundResult } from '../../../lib/bootstrap/coap/endpoint';
import { resolveParameters } from '../../../lib/bootstrap/parameters';
import { RawPeer } from './helpers';

describe('CoapEndpoint: requests younger than ACK_TIMEOUT', () => {
  let sock: dgram.Socket;
  let peer: RawPeer;
  let ep: CoapEndpoint;
  beforeEach(async () => {
    sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    peer = await RawPeer.create();
    ep = new CoapEndpoint(sock, resolveParameters({ coap: { ackTimeout: 0.5 } }), {
      onRequest: () => undefined,
      onMalformed: () => undefined,
      onInternalError: (e) => assert.fail(String(e)),
    });
    ep.start();
  });
  afterEach(async () => {
    ep.stop();
    await peer.close();
    sock.close();
  });

  it('retransmits only the requests nobody answered or acknowledged, and still takes their late answers', async () => {
    const outcomes: OutboundResult[][] = [[], [], [], [], [], []];
    for (let i = 0; i < 6; i++) {
      const t = ep.request('127.0.0.1', peer.port, '0.04', [{ name: 'Uri-Path', value: Buffer.from(String(i)) }], undefined, 8000, {
        onOutcome: (r) => outcomes[i].push(r),
      });
      assert.ok(!(t instanceof Error));
    }
    const sent: { mid: number; token: Buffer }[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await peer.next((q) => q.code === '0.04' && q.options[0]?.value.toString() === String(i));
      sent.push({ mid: p.messageId, token: p.token });
    }
    const port = sock.address().port;
    // 0 and 3 answered (piggy-backed), 1 and 4 acknowledged (empty ACK: the answer comes separately), 2 and 5 silent.
    for (const i of [0, 3]) peer.send({ code: '2.02', ack: true, messageId: sent[i].mid, token: sent[i].token }, port);
    for (const i of [1, 4]) peer.send({ code: '0.00', ack: true, messageId: sent[i].mid }, port);
    const copies = (i: number) => peer.inbox.filter((m) => m.packet?.code === '0.04' && m.packet.messageId === sent[i].mid).length;
    // Wait for the second copy of both silent requests: by then every request past ACK_TIMEOUT would have one.
    await peer.next((q) => q.messageId === sent[2].mid && copies(2) >= 2);
    await peer.next((q) => q.messageId === sent[5].mid && copies(5) >= 2);
    assert.deepEqual([0, 1, 3, 4].map(copies), [1, 1, 1, 1], 'answered and acknowledged requests are not sent again');
    assert.deepEqual(outcomes[0].map((r) => r.kind), ['response']);
    assert.deepEqual(outcomes[3].map((r) => r.kind), ['response']);
    for (const i of [1, 2, 4, 5]) {
      assert.deepEqual(outcomes[i], [], `request ${i} still open`);
      peer.send({ code: '2.02', confirmable: i === 1 || i === 4, ack: i !== 1 && i !== 4, messageId: i === 1 || i === 4 ? 0x7000 + i : sent[i].mid, token: sent[i].token }, port);
    }
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (outcomes.every((o) => o.length === 1)) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    assert.deepEqual(outcomes.map((o) => (o[0].kind === 'response' ? o[0].code : o[0].kind)), ['2.02', '2.02', '2.02', '2.02', '2.02', '2.02']);
    assert.equal(ep.pendingTransmissions, 0);
  });
});

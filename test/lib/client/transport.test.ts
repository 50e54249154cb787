/**
 * DeviceEndpoint details that only show over time: a separate (slow) response whose retransmissions are still
 * scheduled when the device stops must not throw from node-coap's timers on the closed socket.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { generate, parse } from 'coap-packet';
import { DeviceEndpoint } from '../../../lib/client/transport';

describe('DeviceEndpoint', function () {
  this.timeout(15000);

  async function withoutMochaHandler(fn: (uncaught: Error[]) => Promise<void>): Promise<void> {
    const uncaught: Error[] = [];
    const onUncaught = (e: Error) => uncaught.push(e);
    const mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      await fn(uncaught);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const h of mochaHandlers) process.on('uncaughtException', h);
    }
  }

  it('stops cleanly while a slow answer is pending (the empty-ACK timer finds the socket closed)', async () => {
    const ep = await DeviceEndpoint.open({});
    let arrived!: () => void;
    const got = new Promise<void>((r) => (arrived = r));
    ep.onRequest(() => {
      arrived();
      return new Promise((r) => setTimeout(() => r({ code: '2.05' }), 300));
    });
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    try {
      await withoutMochaHandler(async (uncaught) => {
        peer.send(generate({ messageId: 7, token: Buffer.from('01', 'hex'), code: '0.01', confirmable: true }), ep.localPort, '127.0.0.1');
        await got;
        await ep.close(); // before node-coap's 50 ms piggyback timer sends its empty ACK
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(uncaught.map((e) => e.message), []);
      });
    } finally {
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });

  it('stops cleanly while a separate response is being retransmitted (no send on the closed socket)', async () => {
    const ep = await DeviceEndpoint.open({});
    ep.onRequest(() => new Promise((r) => setTimeout(() => r({ code: '2.05', payload: Buffer.from('late') }), 150)));
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const seen: string[] = [];
    peer.on('message', (m) => {
      const p = parse(m);
      seen.push(`${p.confirmable ? 'CON' : p.ack ? 'ACK' : 'NON'} ${p.code}`);
      // The peer never ACKs the separate response: the endpoint keeps retransmitting it.
    });
    try {
      await withoutMochaHandler(async (uncaught) => {
        const req = generate({ messageId: 4242, token: Buffer.from('abcd', 'hex'), code: '0.01', confirmable: true, options: [{ name: 'Uri-Path', value: Buffer.from('x') }] });
        peer.send(req, ep.localPort, '127.0.0.1');
        const until = (pred: () => boolean, ms: number) =>
          new Promise<void>((resolve, reject) => {
            const end = Date.now() + ms;
            const t = setInterval(() => {
              if (pred()) return clearInterval(t), resolve();
              if (Date.now() > end) clearInterval(t), reject(new Error(`timed out; seen ${seen.join(', ')}`));
            }, 10);
          });
        await until(() => seen.includes('CON 2.05'), 3000);
        assert.equal(seen[0], 'ACK 0.00', 'an empty ACK first (piggyback time exceeded), then the separate response');
        await ep.close();
        // node-coap's first retransmission of the separate response falls 2-3 s later (ACK_TIMEOUT x random factor).
        await new Promise((r) => setTimeout(r, 4000));
        assert.deepEqual(uncaught.map((e) => e.message), []);
      });
    } finally {
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });
});

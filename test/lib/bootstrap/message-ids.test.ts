/**
 * Message IDs towards one peer continue their own sequence (RFC 7252 §4.4: no reuse towards the same
 * endpoint within EXCHANGE_LIFETIME), however much other traffic the server has: one shared counter
 * wraps within seconds in a storm, and a device (or the next device behind the same address and port)
 * would take a reused ID for a duplicate and repeat an old answer.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'dgram';
import { CoapEndpoint, flatPeerKey } from '../../../lib/bootstrap/coap/endpoint';
import { resolveParameters } from '../../../lib/bootstrap/parameters';

describe('CoapEndpoint Message IDs', () => {
  let sock: dgram.Socket;
  beforeEach(async () => {
    sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  });
  afterEach(() => sock.close());

  function endpoint(): CoapEndpoint {
    const ep = new CoapEndpoint(sock, resolveParameters({}), { onRequest: () => undefined, onMalformed: () => undefined, onInternalError: () => undefined });
    return ep;
  }

  it('gives one peer consecutive IDs while 70,000 messages go to others', () => {
    const ep = endpoint();
    const first = ep.nextMessageId('10.0.0.1', 5683);
    for (let i = 0; i < 70_000; i++) ep.nextMessageId('10.0.0.2', 1000 + (i % 500));
    const second = ep.nextMessageId('10.0.0.1', 5683);
    assert.equal(second, (first + 1) & 0xffff);
  });

  it('never gives the same peer an ID it had within the last 65,535', () => {
    const ep = endpoint();
    const seen = new Set<number>();
    for (let i = 0; i < 65_536; i++) {
      const a = ep.nextMessageId('10.0.0.1', 5683);
      assert.ok(!seen.has(a), `ID ${a} again after ${i}`);
      seen.add(a);
      ep.nextMessageId('10.0.0.3', 7000 + (i % 3));
    }
  });

  it('continues one sequence per peer whether the caller keeps its key or not', () => {
    const ep = endpoint();
    const key = flatPeerKey('10.0.0.1', 5683);
    const ids = [ep.nextMessageId('10.0.0.1', 5683), ep.nextMessageId('10.0.0.1', 5683, key)];
    for (let i = 0; i < 1000; i++) ep.nextMessageId('10.0.0.2', 1000 + i);
    ids.push(ep.nextMessageId('10.0.0.1', 5683, key), ep.nextMessageId('10.0.0.1', 5683));
    assert.deepEqual(ids, [0, 1, 2, 3].map((k) => (ids[0] + k) & 0xffff));
  });
});

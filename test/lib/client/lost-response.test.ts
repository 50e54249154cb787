/**
 * Over UDP the Bootstrap-Server's 2.04 to POST /bs can be lost while its first commands already reach the
 * device. Firmware takes them: the bootstrap goes on and is committed by Finish. A raw UDP server plays
 * that order exactly: it never answers the first POST /bs, provisions the device, and answers the
 * retransmitted POST /bs only after Finish.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { generate, parse, type ParsedPacket } from 'coap-packet';
import { SimulatedClient } from '../../../lib/client/client';
import { accountStore, encodeAt, FAST, waitFor } from './support/fixtures';

const TLV = 11542;

describe('simulated client: Bootstrap-Server commands before the 2.04', function () {
  this.timeout(15000);

  it('takes the writes and Finish that arrive while its Bootstrap-Request is unanswered, and commits', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const { port } = sock.address();
    const account = { secId: 1, srvId: 0, ssid: 7, uri: 'coap://127.0.0.1:9', lifetime: 60 };
    const s = accountStore(account);
    const script = [
      { code: '0.03', path: ['0', '1'], payload: encodeAt(TLV, '/0/1', s) },
      { code: '0.03', path: ['1', '0'], payload: encodeAt(TLV, '/1/0', s) },
      { code: '0.02', path: ['bs'], payload: Buffer.alloc(0) },
    ];
    const answers: string[] = [];
    let bsRequests = 0;
    let held: ParsedPacket | undefined;
    let peer: dgram.RemoteInfo | undefined;
    let mid = 100;
    let step = 0;
    const sendStep = () => {
      const st = script[step];
      const options = st.path.map((p) => ({ name: 'Uri-Path', value: Buffer.from(p) }));
      if (st.payload.length) options.push({ name: 'Content-Format', value: Buffer.from([TLV >> 8, TLV & 0xff]) });
      sock.send(generate({ messageId: mid++, token: Buffer.from([step + 1]), code: st.code, confirmable: true, options, payload: st.payload }), peer!.port, peer!.address);
    };
    sock.on('message', (msg, rinfo) => {
      const p = parse(msg);
      if (p.code === '0.02' && p.confirmable) {
        // POST /bs (first or retransmitted): remember it, answer only once Finish was answered.
        bsRequests++;
        held = p;
        peer = rinfo;
        if (step === 0 && bsRequests === 1) sendStep();
        if (step >= script.length) {
          sock.send(generate({ messageId: p.messageId, token: p.token, code: '2.04', ack: true }), rinfo.port, rinfo.address);
        }
        return;
      }
      if (p.ack && p.token.length === 1 && p.token[0] === step + 1) {
        answers.push(`${script[step].path.join('/')} ${p.code}`);
        step++;
        if (step < script.length) sendStep();
      }
    });
    const c = new SimulatedClient({
      endpoint: 'lost-204',
      version: '1.1',
      formats: [TLV],
      bootstrapServer: { uri: `coap://127.0.0.1:${port}` },
      timing: { ...FAST, requestTimeoutMs: 10000, bootstrapTimeoutMs: 5000 },
      maxBootstrapAttempts: 1,
    });
    try {
      const bootstrapped = waitFor<{ mode: string }>(c, 'bootstrapped', () => true, 12000);
      await c.start();
      const b = await bootstrapped;
      assert.equal(b.mode, 'request');
      assert.ok(held, 'the device sent POST /bs');
      assert.equal(c.store.serverAccounts()[0]?.ssid, 7, 'the configuration was committed');
      // The late 2.04 (answer to the retransmitted request) must not start a second wait for Finish.
      await new Promise((r) => setTimeout(r, 5500));
      assert.deepEqual(answers, ['0/1 2.04', '1/0 2.04', 'bs 2.04']);
      assert.ok(bsRequests >= 2, 'the device retransmitted its unanswered Bootstrap-Request');
      assert.notEqual(c.state, 'failed');
      assert.equal(c.bootstrapCount, 1);
    } finally {
      await c.stop(false);
      await new Promise<void>((r) => sock.close(() => r()));
    }
  });
});

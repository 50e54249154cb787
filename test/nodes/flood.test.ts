/**
 * Issue 3: a flood of malformed datagrams and of Bootstrap-Requests for unknown devices, through the real
 * Node-RED flow (listener -> lookup on a device table -> reject unknown with 4.03), while a device that is
 * in the table bootstraps. The good device must finish, every unknown one must get its 4.03, and nothing
 * of the flood may reach the flow's error paths.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generate, parse } from 'coap-packet';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch, rejectNode } from './support/flows';
import { ALL_NODES, helper, nextMessage } from './support/runtime';

const UNKNOWN = 400;
const MALFORMED = 1000;

/** Garbage of every kind a CoAP parser meets: short headers, bad versions, truncated options, bad tokens. */
function malformed(i: number): Buffer {
  switch (i % 6) {
    case 0:
      return Buffer.from([0x40]); // one byte
    case 1:
      return Buffer.from([0x80, 0x02, 0x00, 0x01]); // CoAP version 2
    case 2:
      return Buffer.from([0x49, 0x02, 0x00, 0x01, 0x01]); // token length 9 (reserved)
    case 3:
      return Buffer.from([0x40, 0x02, 0x00, 0x01, 0xdd, 0x05]); // option with a length past the datagram
    case 4:
      return Buffer.concat([Buffer.from([0x40, 0x02, (i >> 8) & 0xff, i & 0xff, 0xff])]); // payload marker, no payload
    default:
      return Buffer.from(Array.from({ length: 1 + (i % 40) }, (_, k) => (i * 31 + k * 17) & 0xff));
  }
}

describe('server nodes under a flood', function () {
  this.timeout(60000);
  let dir: string;
  const devices: ScriptedDevice[] = [];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flood-'));
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 4.03 to hundreds of unknown devices and drops malformed datagrams while a known device bootstraps', async () => {
    const port = await nextPort();
    const file = path.join(dir, 'devices.csv');
    fs.writeFileSync(file, 'endpoint,profile\nknown-meter,meters\n');
    const flow = bootstrapFlow({ port, table: { file }, lookup: { unknownDevice: 'notFound' }, listener: { maxSessions: '1000' } });
    patch(flow, 'n-lookup', { wires: [['n-write', 'h-found'], ['n-reject', 'h-notFound']] });
    flow.push(...rejectNode('n-reject', '4.03', 'unknown device'));
    await helper.load(ALL_NODES, flow);

    const errors: unknown[] = [];
    for (const id of ['h-err', 'h-failure', 'h-timeout', 'h-caught']) helper.getNode(id).on('input', (m: unknown) => errors.push([id, m]));
    const success = nextMessage(helper.getNode('h-success'), 50000);

    // The flood: one socket sends garbage and Bootstrap-Requests for endpoints nobody knows.
    const attacker = dgram.createSocket('udp4');
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', () => r()));
    const answers = new Map<string, string>();
    attacker.on('message', (buf) => {
      try {
        const p = parse(buf);
        const tok = p.token.toString('hex');
        if (tok) answers.set(tok, p.code);
      } catch {
        /* the server sent something we cannot parse: counted as missing below */
      }
    });
    const send = (b: Buffer) => new Promise<void>((r) => attacker.send(b, port, '127.0.0.1', () => r()));
    const requests: Buffer[] = [];
    for (let i = 0; i < UNKNOWN; i++) {
      const token = Buffer.alloc(4);
      token.writeUInt32BE(i + 1);
      requests.push(
        generate({
          confirmable: true,
          messageId: (i + 1) & 0xffff,
          token,
          code: '0.02',
          options: [
            { name: 'Uri-Path', value: Buffer.from('bs') },
            { name: 'Uri-Query', value: Buffer.from(`ep=stranger-${i}`) },
          ],
        }),
      );
    }

    const known = await ScriptedDevice.create();
    devices.push(known);
    const flood = (async () => {
      for (let i = 0; i < Math.max(UNKNOWN, MALFORMED); i++) {
        if (i < MALFORMED) await send(malformed(i));
        if (i < UNKNOWN) await send(requests[i]);
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    // The known device asks in the middle of the flood.
    await new Promise((r) => setTimeout(r, 20));
    const res = await known.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'known-meter', timeoutMs: 30000 });
    assert.equal(res.code, '2.04');
    const done = await success;
    assert.equal(done.lwm2m.endpoint, 'known-meter');
    assert.equal(done.lwm2m.outcome, 'SUCCESS');
    assert.ok(known.received.some((x) => x.method === 'PUT' && x.path.startsWith('/0/')), 'the Security object was written');
    await flood;

    // Every unknown device is answered (CoAP retransmits a request whose answer was lost; give them time).
    const deadline = Date.now() + 40000;
    while (answers.size < UNKNOWN && Date.now() < deadline) {
      for (let i = 0; i < UNKNOWN; i++) {
        const tok = (i + 1).toString(16).padStart(8, '0');
        if (!answers.has(tok)) await send(requests[i]);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    attacker.close();
    assert.equal(answers.size, UNKNOWN, `answers to ${answers.size} of ${UNKNOWN} unknown devices`);
    const codes = new Set(answers.values());
    assert.deepEqual([...codes], ['4.03'], `codes seen: ${[...codes].join(', ')}`);
    assert.deepEqual(errors, [], 'the flood reached no error output');
  });
});

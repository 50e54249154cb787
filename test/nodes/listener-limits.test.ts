/**
 * Issue 12: the listener's fairness limits are settings (defaults, validation, translated errors), reach the
 * server, and what they shed shows in the status; refused requests' warnings are escaped and summarised.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from 'coap-packet';
import { LIMIT_DEFAULTS, readSettings, type ListenerDef } from '../../nodes/bootstrap-listener/settings';
import { DTLS_DEFAULTS } from '../../lib/dtls';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { ALL_NODES, helper, statusCalls, until } from './support/runtime';

const BASE = { id: 'n', type: 'lwm2m-bootstrap-listener', name: '', z: '' } as unknown as ListenerDef;

describe('listener fairness settings', () => {
  it('default to 100 pending sessions per source, 255-byte names, 32 half-open handshakes per source and a 10 s half-open timeout', () => {
    const s = readSettings({ ...BASE, transport: 'coaps' } as ListenerDef);
    assert.ok(typeof s !== 'string');
    assert.equal(s.maxPendingPerSource, LIMIT_DEFAULTS.maxPendingPerSource);
    assert.equal(s.maxPendingPerSource, 100);
    assert.equal(s.maxEndpointBytes, 255);
    assert.equal(s.coaps?.limits.maxHalfOpenPerSource, DTLS_DEFAULTS.maxHalfOpenPerSource);
    assert.equal(s.coaps?.limits.halfOpenTimeoutMs, 10_000);
  });

  it('refuses values out of range with an error that has en-US and German text', () => {
    const cases: [Partial<ListenerDef>, string][] = [
      [{ maxPendingPerSource: '0' }, 'badMaxPendingPerSource'],
      [{ maxEndpointBytes: '2000' }, 'badMaxEndpointBytes'],
      [{ transport: 'coaps', maxHalfOpenPerSource: 'x' }, 'badMaxHalfOpenPerSource'],
      [{ transport: 'coaps', halfOpenTimeout: '0' }, 'badTimeout'],
    ];
    const root = path.resolve(__dirname, '..', '..', '..', 'locales');
    for (const [def, key] of cases) {
      assert.equal(readSettings({ ...BASE, ...def } as ListenerDef), key);
      for (const lang of ['en-US', 'de']) {
        const text = JSON.parse(fs.readFileSync(path.join(root, lang, 'bootstrap-listener.json'), 'utf8'));
        assert.ok(text['lwm2m-bootstrap-listener'].errors[key], `${lang} errors.${key}`);
      }
    }
  });
});

describe('listener under a flood of one source', function () {
  this.timeout(20000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('sheds the oldest pending session of a source past "Pending per source", counts it and shows it in the status', async () => {
    const port = await nextPort();
    // Nothing downstream decides: every session stays pending until the decision timeout.
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { maxPendingPerSource: '3' } }));
    const l = helper.getNode('n-listener') as unknown as { serverStats(): { shed: { perSource: number }; pending: number } };
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    try {
      for (let i = 1; i <= 5; i++) {
        sock.send(
          generate({
            code: '0.02',
            confirmable: true,
            messageId: i,
            token: Buffer.from([i]),
            options: [{ name: 'Uri-Path', value: Buffer.from('bs') }, { name: 'Uri-Query', value: Buffer.from(`ep=flood-${i}`) }],
          }),
          port,
          '127.0.0.1',
        );
      }
      await until(() => l.serverStats()?.shed.perSource === 2, 5000, 'two sessions shed');
      assert.equal(l.serverStats().pending, 3);
      // The test runtime shows translation keys: the status names the shed count's text.
      await until(() => statusCalls(helper.getNode('n-listener')).some((st) => /status\.shed/.test(String(st.text))), 3000, 'status shows the shed sessions');
    } finally {
      sock.close();
    }
  });
});

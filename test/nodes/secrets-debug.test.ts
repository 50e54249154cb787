/**
 * Keys never reach the debug sidebar: real debug nodes from Node-RED's core, set to show the complete
 * message, on profile-lookup's output (the first wire gets the message itself, a later wire a copy made by
 * RED.util.cloneMessage) and on bootstrap-finish's success output, while a scripted device over UDP is
 * bootstrapped with a one-time PSK and a second server whose key comes from the profiles' secret values.
 */
import assert from 'node:assert/strict';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { REDACTED } from '../../lib/profile';
import { assertNoKey } from '../support/no-secret';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch } from './support/flows';
import { ALL_NODES, helper, nextMessage, until } from './support/runtime';

/* eslint-disable @typescript-eslint/no-require-imports */
const debugNode: unknown = require('@node-red/nodes/core/common/21-debug.js');
const { events } = require('@node-red/util') as { events: { on(e: string, f: (x: any) => void): void; removeListener(e: string, f: (x: any) => void): void } };

type Msg = Record<string, any>;
const FIXED = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

const debug = (id: string): Msg => ({ id, z: 'tab', type: 'debug', active: true, tosidebar: true, console: false, complete: 'true', targetType: 'full', wires: [] });

describe('secrets: the debug sidebar shows no key', function () {
  this.timeout(20000);
  let dev: ScriptedDevice | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
  });

  it('complete-message debug nodes after profile-lookup (original and clone) and bootstrap-finish show "<redacted>" where the keys are', async () => {
    const port = await nextPort();
    const profile = {
      name: 'meters',
      autoId: true,
      servers: [
        { shortServerId: 1, uri: 'coaps://127.0.0.1:5784', securityMode: 'psk', pskIdentity: '${pskIdentity}', pskKey: { hex: '${pskKey}' } },
        { shortServerId: 2, uri: 'coaps://127.0.0.1:5786', securityMode: 'psk', pskIdentity: 'fixed-${endpoint}', pskKey: { hex: '${DM2_KEY}' } },
      ],
    };
    const flow = bootstrapFlow({ port, profiles: [profile], lookup: { oneTimePsk: true, identityPrefix: '${endpoint}-', keyBytes: '16' } });
    patch(flow, 'n-lookup', { wires: [['d-first', 'n-write', 'h-found', 'd-clone'], ['h-notFound']] });
    patch(flow, 'n-finish', { wires: [['h-success', 'd-success'], ['h-failure'], ['h-timeout']] });
    flow.push(debug('d-first'), debug('d-clone'), debug('d-success'));
    await helper.load([...ALL_NODES, debugNode], flow, { 'n-profiles': { secrets: JSON.stringify({ DM2_KEY: FIXED }) } });
    const shown: Msg[] = [];
    const onComms = (e: Msg) => {
      if (e.topic === 'debug' && typeof e.data?.id === 'string' && e.data.id.startsWith('d-')) shown.push(e.data);
    };
    events.on('comms', onComms);
    try {
      const success = nextMessage(helper.getNode('h-success'));
      dev = await ScriptedDevice.create();
      assert.equal((await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'dbg-1', pct: 11542 })).code, '2.04');
      const msg = await success;
      assert.equal(msg.lwm2m.outcome, 'SUCCESS');
      const oneTime = msg.lwm2m.credentials.pskKey as string;
      assert.match(oneTime, /^[0-9a-f]{32}$/, 'the flow reads the one-time key');
      assert.deepEqual(msg.profile.servers[1].pskKey, { hex: FIXED }, 'the flow reads the fixed key');

      // The device got both keys.
      const keys = dev.received
        .filter((r) => r.method === 'PUT' && r.path.startsWith('/0/'))
        .map((r) => {
          const inst = decode(r.contentFormat!, LwM2mPath.parse(r.path), r.payload);
          const k = inst.kind === 'instance' ? inst.resources.get(5) : undefined;
          return k && k.kind === 'single' ? Buffer.from(k.value as Buffer).toString('hex') : '';
        });
      assert.deepEqual(keys.sort(), [oneTime, FIXED].sort());

      await until(() => new Set(shown.map((d) => d.id)).size === 3, 5000, 'all three debug messages');
      for (const d of shown) {
        assertNoKey(d.msg as string, oneTime, `debug ${d.id as string}`);
        assertNoKey(d.msg as string, FIXED, `debug ${d.id as string}`);
        const m = JSON.parse(d.msg as string) as Msg;
        assert.equal(m.profile.servers[0].pskKey, REDACTED, `${d.id as string}: one-time key`);
        assert.equal(m.profile.servers[1].pskKey, REDACTED, `${d.id as string}: fixed key`);
        assert.equal(m.profile.servers[1].pskIdentity, 'fixed-dbg-1', 'the identity shows');
        assert.deepEqual(m.lwm2m.credentials, { pskIdentity: msg.lwm2m.credentials.pskIdentity, pskKey: REDACTED, secret: true });
      }
    } finally {
      events.removeListener('comms', onComms);
    }
  });
});

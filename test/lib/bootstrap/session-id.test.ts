import assert from 'node:assert/strict';
import { BootstrapSession, type SessionHost } from '../../../lib/bootstrap/session';

describe('bootstrap session ids', () => {
  it('are random version-4 UUIDs, all different, across refills of the random pool', () => {
    const host = {} as SessionHost; // the constructor only keeps it
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = new BootstrapSession(host, undefined, { endpoint: `ep-${i}`, peer: { address: '127.0.0.1', port: 5683, family: 'IPv4' }, query: {} });
      assert.match(s.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(s.id);
    }
    assert.equal(ids.size, 1000);
  });
});

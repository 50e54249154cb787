/**
 * The values a profile is filled with (lib/profile/values.ts) and the second, typed fill (fill.ts): which
 * source wins, request values inside environment text, and table text that must become a number.
 * No sockets.
 */
import assert from 'node:assert/strict';
import { fillProfile, placeholderNames, ProfileError, templateValues } from '../../../lib/profile';

describe('profile template values', () => {
  const doc = { uri: '${DM_URI}', lifetime: '${lifetime}', apn: '${apn}', a: ['${endpoint}'] };

  it('names every placeholder of a document once', () => {
    assert.deepEqual(placeholderNames({ ...doc, b: '${apn}' }).sort(), ['DM_URI', 'apn', 'endpoint', 'lifetime']);
  });

  it('takes defaults < environment < secrets < device row < the request < one-time keys', () => {
    const env: Record<string, string> = { apn: 'env-apn', lifetime: '60', endpoint: 'env-ep' };
    const { values } = templateValues(doc, {
      profileDefaults: { apn: 'default-apn', lifetime: 30, pskKey: 'default' },
      env: (n) => env[n],
      secrets: { pskKey: 'secret' },
      row: { lifetime: '300', endpoint: 'row-ep' },
      request: { endpoint: 'dev-1', identity: { id: 'id-1' }, peer: { address: '10.0.0.2', port: 5683 } },
      oneTime: { pskIdentity: 'one', pskKey: 'onetime' },
    });
    assert.equal(values.apn, 'env-apn');
    assert.equal(values.lifetime, '300');
    assert.equal(values.endpoint, 'dev-1');
    assert.equal(values.identity, 'id-1');
    assert.equal(values.peerPort, 5683);
    assert.equal(values.pskKey, 'onetime');
  });

  it('fills request values inside environment text, and names the ones this request lacks', () => {
    const filled = templateValues(doc, {
      env: (n) => (n === 'DM_URI' ? 'coap://${serverHost}:${serverPort}' : undefined),
      request: { endpoint: 'dev-1', local: { port: 5683 } },
    });
    assert.equal(filled.values.DM_URI, 'coap://${serverHost}:5683');
    assert.deepEqual(filled.unresolved, ['serverHost']);
    const v6 = templateValues(doc, {
      env: (n) => (n === 'DM_URI' ? 'coap://${serverHost}:${serverPort}' : undefined),
      request: { local: { address: 'fd00::1', port: 5783 } },
    });
    assert.equal(v6.values.DM_URI, 'coap://[fd00::1]:5783');
    assert.deepEqual(v6.unresolved, []);
  });

  it('marks table and environment text, so a number in it can be typed on the second fill', () => {
    const filled = templateValues(doc, { env: (n) => (n === 'apn' ? 'internet' : undefined), row: { lifetime: '300' }, request: {} });
    assert.deepEqual(filled.textKeys.sort(), ['apn', 'lifetime']);
  });

  it('fills a profile whose lifetime comes as table text; a text that is no number still fails', () => {
    const raw = {
      name: 'p',
      servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', lifetime: '${lifetime}' }],
    };
    const typed = fillProfile(raw, { lifetime: '300' }, ['lifetime']) as unknown as { servers: { lifetime: unknown }[] };
    assert.equal(typed.servers[0].lifetime, 300);
    assert.throws(() => fillProfile(raw, { lifetime: 'soon' }, ['lifetime']), ProfileError);
  });
});

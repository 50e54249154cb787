import { strict as assert } from 'node:assert';
import * as coap from 'coap';
import { DEFAULT_BOOTSTRAP_TIMINGS, DEFAULT_COAP_PARAMETERS, resolveParameters } from '../../../lib/bootstrap';

describe('bootstrap parameters (RFC 7252 §4.8 timing)', () => {
  it('derives the RFC 7252 defaults: 45 s span, 93 s wait, 202 s MAX_RTT, 247 s EXCHANGE_LIFETIME', () => {
    const p = DEFAULT_COAP_PARAMETERS;
    assert.deepEqual(
      [p.maxTransmitSpan, p.maxTransmitWait, p.maxRtt, p.exchangeLifetime, p.nonLifetime],
      [45, 93, 202, 247, 145],
    );
    assert.ok(Object.isFrozen(p));
  });

  it('agrees with the constants node-coap ships', () => {
    const c = coap.parameters;
    const p = DEFAULT_COAP_PARAMETERS;
    assert.deepEqual(
      [p.ackTimeout, p.ackRandomFactor, p.maxRetransmit, p.maxTransmitSpan, p.maxTransmitWait, p.maxRtt, p.exchangeLifetime],
      [c.ackTimeout, c.ackRandomFactor, c.maxRetransmit, c.maxTransmitSpan, c.maxTransmitWait, c.maxRTT, c.exchangeLifetime],
    );
  });

  it('recomputes derived values from overrides without touching the defaults', () => {
    const r = resolveParameters({ coap: { ackTimeout: 1, maxRetransmit: 2 }, timings: { requestTimeoutMs: 5000 } });
    assert.equal(r.coap.maxTransmitSpan, 1 * 3 * 1.5);
    assert.equal(r.coap.maxTransmitWait, 1 * 7 * 1.5);
    assert.equal(r.coap.exchangeLifetime, 4.5 + 200 + 1);
    assert.equal(r.timings.requestTimeoutMs, 5000);
    assert.equal(r.timings.sessionTimeoutMs, DEFAULT_BOOTSTRAP_TIMINGS.sessionTimeoutMs);
    assert.equal(DEFAULT_COAP_PARAMETERS.ackTimeout, 2);
    assert.equal(coap.parameters.ackTimeout, 2, 'node-coap globals untouched');
  });

  it('keeps the session under the 93 s Leshan clients allow', () => {
    assert.ok(DEFAULT_BOOTSTRAP_TIMINGS.sessionTimeoutMs < 93_000);
  });

  it('rejects nonsense overrides with a RangeError naming the field', () => {
    assert.throws(() => resolveParameters({ coap: { ackTimeout: -1 } }), /ackTimeout/);
    assert.throws(() => resolveParameters({ timings: { requestTimeoutMs: Number.NaN } }), /requestTimeoutMs/);
  });
});

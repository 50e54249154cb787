import { strict as assert } from 'node:assert';
import { CoapFormatError, parseDatagram, uintBuffer, uintOption, uriPath, uriQuery } from '../../../lib/bootstrap/coap/message';
import { endpointName, parseQuery, preferredContentFormat } from '../../../lib/bootstrap/inbound';

// OMA-TS-LightweightM2M_Core, Bootstrap Interface (Bootstrap-Request): CON POST /bs?ep=client1&pct=112, MID 0x1234, token A1B2C3D4
const BS_REQUEST = Buffer.from('44021234A1B2C3D4B262734A65703D636C69656E743107706374 3D313132'.replace(/ /g, ''), 'hex');
// OMA-TS-LightweightM2M_Core 1.2, Bootstrap Interface (Bootstrap-Pack-Request): CON GET /bspack?ep=client1, Accept 112
const PACK_REQUEST = Buffer.from('420103000C0DB66273706163 6B4A65703D636C69656E74312170'.replace(/ /g, ''), 'hex');

describe('CoAP datagram parsing (strict RFC 7252 §3)', () => {
  it('reads the Bootstrap-Request of the reference byte for byte', () => {
    const p = parseDatagram(BS_REQUEST);
    assert.equal(p.code, '0.02');
    assert.equal(p.confirmable, true);
    assert.equal(p.messageId, 0x1234);
    assert.deepEqual(p.token, Buffer.from('A1B2C3D4', 'hex'));
    assert.deepEqual(uriPath(p), ['bs']);
    assert.deepEqual(uriQuery(p), ['ep=client1', 'pct=112']);
  });

  it('reads the Accept option of a Bootstrap-Pack-Request', () => {
    const p = parseDatagram(PACK_REQUEST);
    assert.deepEqual(uriPath(p), ['bspack']);
    assert.equal(uintOption(p, 'Accept'), 112);
  });

  const bad: [string, string][] = [
    ['', 'shorter than a CoAP header'],
    ['440212', 'shorter than a CoAP header'],
    ['84021234', 'version 2'],
    ['4902123401020304050607080900', 'token length 9'],
    ['44021234A1B2', 'ends inside the token'],
    ['40021234B562', 'past the end'],
    ['40021234B26273FF', 'payload marker without payload'],
    ['40021234F0', 'delta'],
    ['4000123400', 'Empty messages'],
  ];
  for (const [hex, why] of bad) {
    it(`rejects ${hex || 'an empty datagram'} (${why})`, () => {
      assert.throws(() => parseDatagram(Buffer.from(hex, 'hex')), (e: unknown) => e instanceof CoapFormatError && e.message.includes(why));
    });
  }

  it('encodes unsigned option values in the fewest bytes', () => {
    assert.deepEqual(uintBuffer(0), Buffer.alloc(0));
    assert.deepEqual(uintBuffer(40), Buffer.from([40]));
    assert.deepEqual(uintBuffer(11542), Buffer.from([0x2d, 0x16]));
  });
});

describe('Bootstrap-Request query checks', () => {
  it('keeps unknown parameters, the first of repeated ones, and no prototype keys', () => {
    const q = parseQuery(['ep=a=b', 'ep=second', 'x', '__proto__=1', 'k=']);
    assert.deepEqual(q, { ep: 'a=b', x: '', k: '' });
    assert.equal(Object.getPrototypeOf(q), Object.prototype);
  });

  it('takes the endpoint from ep, else from the DTLS identity, else answers 4.00', () => {
    assert.deepEqual(endpointName({ ep: 'dev' }, undefined), { ok: true, value: 'dev' });
    assert.deepEqual(endpointName({}, { type: 'psk', id: 'psk-id', encoding: 'utf8' }), { ok: true, value: 'psk-id' });
    const r = endpointName({ ep: '' }, undefined);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, '4.00');
  });

  it('accepts pct 110, 112, 11542, 1542 (as 11542), 11544 and LwM2M JSON 11543 (1543 as 11543) only', () => {
    const ok = (pct: string) => preferredContentFormat({ pct });
    assert.deepEqual([110, 112, 11542, 11544, 11543].map((n) => ok(String(n))), [110, 112, 11542, 11544, 11543].map((value) => ({ ok: true, value })));
    assert.deepEqual(ok('1542'), { ok: true, value: 11542 });
    assert.deepEqual(ok('1543'), { ok: true, value: 11543 });
    for (const v of ['0', '40', '-112', '112.0', '0112x', '']) assert.equal(ok(v).ok, false, v);
    assert.deepEqual(preferredContentFormat({}), { ok: true, value: undefined });
  });
});

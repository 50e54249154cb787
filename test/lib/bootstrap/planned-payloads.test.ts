/**
 * The plan and the encoded writes of a ValidatedProfile are made once and shared (profile/plan.ts,
 * bootstrap/result.ts): the bytes on the wire are those a fresh encoding gives, in every write format, and
 * one profile never gets another's.
 */
import assert from 'node:assert/strict';
import { encode } from '../../../lib/codec';
import { WRITE_FORMAT_FALLBACK, ContentFormat } from '../../../lib/codec/formats';
import { requestPayload } from '../../../lib/bootstrap/result';
import { applyTemplate, isPlannedNode, planBootstrap, type BootstrapProfile, type ValidatedProfile } from '../../../lib/profile';
import type { BootstrapWriteRequest } from '../../../lib/operations/requests';

function template(): BootstrapProfile {
  return {
    name: 'shared',
    servers: [{ shortServerId: 1, uri: 'coaps://dm.example.com:5684', securityMode: 'psk', pskIdentity: '${endpoint}', pskKey: { hex: '000102030405060708090a0b0c0d0e0f' }, lifetime: 300 }],
    objects: {
      '3': [{ resources: { '14': '+01:00' } }],
      '11': [{ resources: { '0': 'APN', '1': '${apn}', '4': 3 } }],
    },
  } as unknown as BootstrapProfile;
}

const FORMATS = [...new Set([...WRITE_FORMAT_FALLBACK, ContentFormat.LWM2M_CBOR])];

function writes(plan: readonly { type: string }[]): BootstrapWriteRequest[] {
  return plan.filter((r) => r.type === 'BootstrapWriteRequest') as BootstrapWriteRequest[];
}

describe('bootstrap: planned writes shared per validated profile', () => {
  it('covers every write format', () => {
    assert.deepEqual([...FORMATS].sort(), [ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.TLV, ContentFormat.LWM2M_CBOR].sort());
  });

  for (const cf of FORMATS) {
    it(`format ${cf}: the shared payloads are byte for byte a fresh encoding, and found again`, () => {
      const p = applyTemplate(template(), { endpoint: `ep-${cf}`, apn: 'a.example' });
      planBootstrap(p, { contentFormat: cf }); // the first plan of a profile is not kept
      const plan = planBootstrap(p, { contentFormat: cf });
      assert.equal(planBootstrap(p, { contentFormat: cf }), plan, 'the same plan from then on');
      const ws = writes(plan);
      assert.ok(ws.length >= 3);
      for (const w of ws) {
        assert.ok(isPlannedNode(w.node));
        const shared = requestPayload(w, undefined)!;
        // A fresh encoding of a tree planned from a copy of the same profile (no cache on either).
        const fresh = encode(cf, w.path, w.node);
        assert.deepEqual(shared, fresh, `${w.path.toString()} in ${cf}`);
        assert.equal(requestPayload(w, undefined), shared, 'encoded once');
      }
    });
  }

  it('a different profile (other values) gets its own plan and its own bytes, in each format', () => {
    const t = template();
    const a = applyTemplate(t, { endpoint: 'dev-a', apn: 'apn-a.example' });
    const b = applyTemplate(t, { endpoint: 'dev-b', apn: 'apn-b.example' });
    for (const cf of FORMATS) {
      const plans = [a, b].map((p: ValidatedProfile) => {
        planBootstrap(p, { contentFormat: cf });
        return planBootstrap(p, { contentFormat: cf });
      });
      assert.notEqual(plans[0], plans[1]);
      const apnA = requestPayload(writes(plans[0]).find((w) => w.path.objectId === 11)!, undefined)!;
      const apnB = requestPayload(writes(plans[1]).find((w) => w.path.objectId === 11)!, undefined)!;
      assert.ok(apnA.includes(Buffer.from('apn-a.example')) && !apnA.includes(Buffer.from('apn-b.example')), `a in ${cf}`);
      assert.ok(apnB.includes(Buffer.from('apn-b.example')) && !apnB.includes(Buffer.from('apn-a.example')), `b in ${cf}`);
      const secA = requestPayload(writes(plans[0]).find((w) => w.path.objectId === 0)!, undefined)!;
      const secB = requestPayload(writes(plans[1]).find((w) => w.path.objectId === 0)!, undefined)!;
      assert.notDeepEqual(secA, secB, `each device's own identity in ${cf}`);
    }
  });

  it('one profile in two formats: each format its own bytes (the 4.15 fallback)', () => {
    const p = applyTemplate(template(), { endpoint: 'two-formats', apn: 'a' });
    planBootstrap(p, { contentFormat: ContentFormat.SENML_CBOR });
    const cbor = writes(planBootstrap(p, { contentFormat: ContentFormat.SENML_CBOR }))[0];
    const first = requestPayload(cbor, undefined)!;
    // the runner's fallback: a new request on the same tree in the next format
    const tlv = { ...cbor, contentFormat: ContentFormat.TLV, type: 'BootstrapWriteRequest' } as BootstrapWriteRequest;
    const tlvBytes = requestPayload(tlv, undefined)!;
    assert.deepEqual(tlvBytes, encode(ContentFormat.TLV, cbor.path, cbor.node));
    assert.notDeepEqual(tlvBytes, first);
    assert.equal(requestPayload(cbor, undefined), first);
  });

  it('a tree that is not from a kept plan is encoded each time', () => {
    const p = applyTemplate(template(), { endpoint: 'once-only', apn: 'a' });
    const w = writes(planBootstrap(p, { contentFormat: ContentFormat.TLV }))[0];
    assert.equal(isPlannedNode(w.node), false);
    const x = requestPayload(w, undefined)!;
    const y = requestPayload(w, undefined)!;
    assert.notEqual(x, y);
    assert.deepEqual(x, y);
  });
});

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { defaultModel, instanceFromJson, nodeToJson, valueFromJson, valueToJson } from '../../../lib/model';
import type { ResourceType, ResourceValue } from '../../../lib/model';

/** Typed values as the model holds them, per type. */
const typed: Record<Exclude<ResourceType, 'none'>, fc.Arbitrary<ResourceValue>> = {
  string: fc.string(),
  corelnk: fc.string(),
  integer: fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((b) => b < -(2n ** 53n) || b > 2n ** 53n)),
  unsigned: fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 64n - 1n })),
  time: fc.integer({ min: 0, max: 2 ** 40 }),
  float: fc.double({ noNaN: true, noDefaultInfinity: true }),
  boolean: fc.boolean(),
  opaque: fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
  objlnk: fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([objectId, instanceId]) => ({ objectId, instanceId })),
};

describe('model: value JSON round trip (property)', () => {
  for (const [type, arb] of Object.entries(typed) as [Exclude<ResourceType, 'none'>, fc.Arbitrary<ResourceValue>][]) {
    it(`${type}: valueFromJson(JSON(valueToJson(v))) equals v`, () => {
      fc.assert(
        fc.property(arb, (v) => {
          const json = JSON.parse(JSON.stringify(valueToJson(type, v)));
          const back = valueFromJson(type, json, '/p');
          if (typeof v === 'number' && Object.is(v, -0)) return back === 0;
          assert.deepEqual(back, v);
          return true;
        }),
        { numRuns: 300 },
      );
    });
  }

  it('masked Security instances never carry the secret key bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), (key) => {
        const hex = Buffer.from(key).toString('hex');
        const inst = instanceFromJson(0, 1, { '0': 'coaps://h', '1': false, '2': 0, '3': 'id', '4': '', '5': { hex }, '10': 1 }, defaultModel);
        const text = JSON.stringify(nodeToJson(inst, { maskSecrets: true, path: '/0/1' }));
        return !text.includes(hex) && text.includes('"5":"***"');
      }),
      { numRuns: 200 },
    );
  });
});

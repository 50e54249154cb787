/** Round-trip properties: for random typed trees, decode(encode(tree)) gives the tree back, in every format. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CBOR_FORMAT,
  decode,
  encode,
  encodeLinkFormat,
  type Link,
  LWM2M_CBOR_FORMAT,
  LWM2M_JSON_FORMAT,
  OPAQUE_FORMAT,
  parseLinkFormat,
  SENML_CBOR_FORMAT,
  SENML_JSON_FORMAT,
  TEXT_FORMAT,
  TLV_FORMAT,
} from '../../../lib/codec';
import { LwM2mPath } from '../../../lib/model/path';
import { type Addressed, arbAddressed, arbSingleValue } from './arbitraries';
import { testModel } from './support';

const RUNS = 300;

function roundTrips(cf: number, a: Addressed): void {
  const bytes = encode(cf, a.path, a.node, testModel);
  assert.deepStrictEqual(decode(cf, a.path, bytes, testModel), a.node);
  // Our own output is canonical: encoding the decoded tree again gives the same bytes.
  assert.deepStrictEqual(encode(cf, a.path, decode(cf, a.path, bytes, testModel), testModel), bytes);
}

describe('codec: round-trip properties (fast-check)', function () {
  // Thousands of generated cases: allow for a loaded machine (mocha's default is 2 s).
  this.timeout(60_000);
  const hierarchical: [string, number, { allowEmpty: boolean; root: boolean }][] = [
    ['TLV', TLV_FORMAT, { allowEmpty: true, root: false }],
    ['SenML JSON', SENML_JSON_FORMAT, { allowEmpty: false, root: true }],
    ['SenML CBOR', SENML_CBOR_FORMAT, { allowEmpty: false, root: true }],
    ['LwM2M CBOR', LWM2M_CBOR_FORMAT, { allowEmpty: true, root: true }],
    ['LwM2M JSON', LWM2M_JSON_FORMAT, { allowEmpty: false, root: true }],
  ];
  for (const [name, cf, opts] of hierarchical) {
    it(`${name}: random trees at every level come back unchanged`, () => {
      fc.assert(fc.property(arbAddressed(opts), (a) => roundTrips(cf, a)), { numRuns: RUNS });
    });
  }

  it('TLV: NaN and infinities survive (binary floats)', () => {
    for (const x of [NaN, Infinity, -Infinity, -0]) {
      const node = { kind: 'single', id: 5700, type: 'float', value: x } as const;
      const p = LwM2mPath.parse('/3303/0/5700');
      assert.deepStrictEqual(decode(TLV_FORMAT, p, encode(TLV_FORMAT, p, node, testModel), testModel), node);
    }
  });

  const single: [string, number, boolean][] = [
    ['plain text', TEXT_FORMAT, true],
    ['CBOR', CBOR_FORMAT, true],
  ];
  for (const [name, cf, instances] of single) {
    it(`${name}: random single values and resource instances come back unchanged`, () => {
      fc.assert(fc.property(arbSingleValue(instances), (a) => roundTrips(cf, a)), { numRuns: RUNS });
    });
  }
  it('opaque: random opaque values come back unchanged', () => {
    fc.assert(fc.property(arbSingleValue(true, 'opaque'), (a) => roundTrips(OPAQUE_FORMAT, a)), { numRuns: RUNS });
  });

  it('link-format: random links come back unchanged', () => {
    const arbLink: fc.Arbitrary<Link> = fc.record({
      path: fc.oneof(
        fc.constant('/'),
        fc.integer({ min: 0, max: 65535 }).map((o) => `/${o}`),
        fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([o, i]) => `/${o}/${i}`),
      ),
      attributes: fc.dictionary(
        fc.stringMatching(/^[a-z][a-z0-9_.-]{0,6}$/).filter((k) => k !== 'lwm2m' && k !== '__proto__'),
        fc.oneof(fc.stringMatching(/^[A-Za-z0-9.]{0,8}$/), fc.string({ unit: 'grapheme', maxLength: 10 })),
        { maxKeys: 3, noNullPrototype: true },
      ),
    }, { noNullPrototype: true });
    fc.assert(
      fc.property(fc.array(arbLink, { maxLength: 6 }), (links) => {
        assert.deepStrictEqual(parseLinkFormat(encodeLinkFormat(links)).links, links);
      }),
      { numRuns: RUNS },
    );
  });
});

/** The Content-Format table, and the promise that no input makes a decoder throw anything but a CodecError. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  codecs,
  decode,
  encode,
  getCodec,
  lwm2mJsonCodec,
  parseLinkFormat,
  supportedFormats,
  tlvCodec,
} from '../../../lib/codec';
import { CodecError, UnsupportedFormatError } from '../../../lib/errors';
import { LwM2mPath } from '../../../lib/model/path';
import { defaultModel } from '../../../lib/model/registry';
import { hex, inst, P, res, testModel } from './support';

describe('codec: Content-Format table', () => {
  it('lists every format it reads, legacy codes included', () => {
    assert.deepStrictEqual(supportedFormats(), [0, 42, 60, 110, 112, 1542, 1543, 11542, 11543, 11544]);
  });

  it('maps legacy 1542/1543 to the TLV and LwM2M JSON codecs', () => {
    assert.equal(getCodec(1542), tlvCodec);
    assert.equal(getCodec(11542), tlvCodec);
    assert.equal(getCodec(1543), lwm2mJsonCodec);
    assert.equal(getCodec(40), undefined, 'link-format has its own functions');
    assert.equal(getCodec(9999), undefined);
  });

  it('names each codec and writes its first format', () => {
    assert.deepStrictEqual(
      codecs.map((c) => [c.name, c.formats[0]]),
      [
        ['TLV', 11542],
        ['SenML JSON', 110],
        ['SenML CBOR', 112],
        ['LwM2M CBOR', 11544],
        ['LwM2M JSON', 11543],
        ['text', 0],
        ['opaque', 42],
        ['CBOR', 60],
      ],
    );
  });

  it('throws UnsupportedFormatError for an unknown format, both ways', () => {
    assert.throws(() => decode(9999, P('/1/0'), Buffer.alloc(0)), (e: unknown) => e instanceof UnsupportedFormatError && e.format === 9999);
    assert.throws(() => encode(40, P('/1/0'), inst(0)), (e: unknown) => e instanceof UnsupportedFormatError && e.format === 40);
  });

  it('uses defaultModel when no model is given', () => {
    // /1/0/1 is an integer in the default model: the bytes 00 01 51 80 read as 86400, not as opaque.
    assert.deepStrictEqual(decode(11542, P('/1/0'), hex('C4 01 00 01 51 80')), inst(0, res(1, 'integer', 86400)));
    assert.deepStrictEqual(encode(11542, P('/1/0'), inst(0, res(1, 'integer', 86400))), hex('C4 01 00 01 51 80'));
    assert.ok(defaultModel.getResource(1, 1));
  });

  it('rejects a path given as a string with a CodecError', () => {
    assert.throws(
      () => decode(11542, '/1/0' as unknown as LwM2mPath, hex('C1 00 01')),
      (e: unknown) => e instanceof CodecError && /LwM2mPath/.test(e.message),
    );
  });
});

describe('codec: robustness (fast-check)', function () {
  // Thousands of generated cases: allow for a loaded machine (mocha's default is 2 s).
  this.timeout(60_000);
  const paths = ['/', '/0', '/0/1', '/1/0', '/3/0/6', '/0/0/0', '/1000/0/5', '/3/0/6/1', '/1000/0/0'].map((p) => LwM2mPath.parse(p));
  const formats = supportedFormats();

  it('random bytes never make a decoder throw anything but a CodecError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...formats), fc.constantFrom(...paths), fc.uint8Array({ maxLength: 64 }), (cf, path, bytes) => {
        try {
          decode(cf, path, Buffer.from(bytes), testModel);
        } catch (e) {
          assert.ok(e instanceof CodecError, `format ${cf} ${path}: ${String(e)}`);
          assert.equal(e.format === cf || (cf === 1542 && e.format === 11542) || (cf === 1543 && e.format === 11543), true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid payloads never make a decoder throw anything but a CodecError', () => {
    const seeds: [number, string, string][] = [
      [11542, '/3/0', 'C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65 86 06 41 00 01 41 01 05 C4 0D 51 82 42 8F'],
      [112, '/0/0', '84 A3 21 65 2F 30 2F 30 2F 00 61 30 03 61 55 A2 00 61 31 04 F4 A2 00 61 32 02 03 A2 00 62 31 30 02 01'],
      [11544, '/', 'A2 00 A1 01 A4 00 61 55 01 F4 02 03 0A 01 01 A1 00 A4 00 01 01 1A 00 01 51 80 06 F4 07 61 55'],
      [110, '/0/1', Buffer.from('[{"bn":"/0/1/","n":"3","vd":"ZGV2MQ"},{"n":"17","vlo":"21:0"},{"n":"2","v":3}]').toString('hex')],
      [11543, '/0/0', Buffer.from('{"bn":"/0/0/","e":[{"n":"0","sv":"x"},{"n":"1","bv":false},{"n":"2","v":3}]}').toString('hex')],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        ([cf, path, h], edits, cut) => {
          const b = hex(h);
          for (const [i, v] of edits) b[i % b.length] = v;
          const payload = cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
          try {
            decode(cf, LwM2mPath.parse(path), payload, testModel);
          } catch (e) {
            assert.ok(e instanceof CodecError, `format ${cf}: ${String(e)}`);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random text never makes the link-format parser throw anything but a CodecError', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('<', '>', '/', '0', '1', ';', ',', '=', '"', '\\', 'a', ' ', 's') }), (t) => {
        try {
          parseLinkFormat(t);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random values and node shapes never make an encoder throw anything but a CodecError', () => {
    const types = ['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk', 'none'] as const;
    const arbNode = fc.oneof(
      fc.record({ kind: fc.constant('single'), id: fc.constantFrom(0, 1, 5, 6, 9, 77), type: fc.constantFrom(...types), value: fc.anything() }),
      fc.record({
        kind: fc.constant('multiple'),
        id: fc.constantFrom(6, 16, 25, 77),
        type: fc.constantFrom(...types),
        instances: fc.oneof(fc.anything(), fc.array(fc.tuple(fc.integer({ min: -1, max: 70000 }), fc.anything()), { maxLength: 3 }).map((e) => new Map(e))),
      }),
      fc.record({ kind: fc.constantFrom('instance', 'object', 'root', 'resourceInstance', 'bogus'), id: fc.integer({ min: 0, max: 3 }), resources: fc.anything(), instances: fc.anything(), objects: fc.anything() }),
      fc
        .array(fc.tuple(fc.integer({ min: -1, max: 70000 }), fc.integer({ min: -1, max: 70000 }), fc.anything()), { maxLength: 3 })
        .chain((entries) =>
          fc.constantFrom(
            { kind: 'root', objects: new Map(entries.map(([k, id, x]) => [k, { kind: 'object', id, instances: x }])) },
            { kind: 'object', id: 0, instances: new Map(entries.map(([k, id, x]) => [k, { kind: 'instance', id, resources: x }])) },
            { kind: 'instance', id: 1, resources: new Map(entries.map(([k, id, x]) => [k, { kind: 'single', id, type: 'integer', value: x }])) },
          ),
        ),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...formats), fc.constantFrom(...paths), arbNode, (cf, path, node) => {
        try {
          encode(cf, path, node as never, testModel);
        } catch (e) {
          assert.ok(e instanceof CodecError, `format ${cf} ${path}: ${String(e)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

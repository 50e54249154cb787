/** LwM2M CBOR (11544) against OMA-TS-LightweightM2M_Core 1.2, Data Formats: LwM2M CBOR, and Anjay's lwm2m_cbor_in.c / lwm2m_cbor_out.c vectors. */
import assert from 'node:assert/strict';
import { decode, encode, LWM2M_CBOR_FORMAT } from '../../../lib/codec';
import { assertCodecError, hex, inst, malformedSuite, multi, obj, P, res, rinst, root, testModel, vectorSuite } from './support';

const URI = 'coap://127.0.0.1:5683';
const URI_HEX = '75 63 6F 61 70 3A 2F 2F 31 32 37 2E 30 2E 30 2E 31 3A 35 36 38 33';
const sec00 = inst(0, res(0, 'string', URI), res(1, 'boolean', false), res(2, 'integer', 3), res(10, 'integer', 1));
const empty = Buffer.alloc(0);

describe('codec: LwM2M CBOR (11544)', () => {
  describe('LwM2M CBOR examples', () => {
    vectorSuite(LWM2M_CBOR_FORMAT, [
      { name: 'example 1: Security /0/0 with an array key (34 bytes)', path: '/0/0', tree: sec00, hex: `A1 82 00 00 A4 00 ${URI_HEX} 01 F4 02 03 0A 01` },
      {
        name: 'example 1 with nested single keys',
        path: '/0/0',
        tree: sec00,
        hex: `A1 00 A1 00 A4 00 ${URI_HEX} 01 F4 02 03 0A 01`,
        encodes: false,
        canonical: `A1 82 00 00 A4 00 ${URI_HEX} 01 F4 02 03 0A 01`,
      },
      {
        name: 'example 2: a Bootstrap-Pack with Security /0/1 and Server /1/0',
        path: '/',
        tree: root(
          obj(
            0,
            inst(
              1,
              res(0, 'string', URI),
              res(1, 'boolean', false),
              res(2, 'integer', 3),
              res(3, 'opaque', empty),
              res(4, 'opaque', empty),
              res(5, 'opaque', empty),
              res(10, 'integer', 1),
            ),
          ),
          obj(1, inst(0, res(0, 'integer', 1), res(1, 'integer', 86400), res(6, 'boolean', false), res(7, 'string', 'U'))),
        ),
        hex: `A2 00 A1 01 A7 00 ${URI_HEX} 01 F4 02 03 03 40 04 40 05 40 0A 01 01 A1 00 A4 00 01 01 1A 00 01 51 80 06 F4 07 61 55`,
      },
      {
        name: 'the 1.2 spec Server instance printed relative to a Write of /1/0 (OMA issue #545)',
        path: '/1/0',
        tree: inst(
          0,
          res(0, 'integer', 101),
          res(1, 'integer', 86400),
          res(2, 'integer', 300),
          res(3, 'integer', 6000),
          res(5, 'integer', 86400),
          res(6, 'boolean', true),
          res(7, 'string', 'U'),
        ),
        hex: 'A7 00 18 65 01 1A 00 01 51 80 02 19 01 2C 03 19 17 70 05 1A 00 01 51 80 06 F5 07 61 55',
        encodes: false,
        canonical: 'A1 82 01 00 A7 00 18 65 01 1A 00 01 51 80 02 19 01 2C 03 19 17 70 05 1A 00 01 51 80 06 F5 07 61 55',
      },
    ]);
  });

  describe("Anjay's vectors (object 13 is unknown: types come from the CBOR items)", () => {
    vectorSuite(LWM2M_CBOR_FORMAT, [
      { name: '{[13, 26, 1]: 42}', path: '/13/26/1', tree: res(1, 'integer', 42), hex: 'A1 83 0D 18 1A 01 18 2A' },
      { name: 'the indefinite form Anjay emits', path: '/13/26/1', tree: res(1, 'integer', 42), hex: 'BF 83 0D 18 1A 01 18 2A FF', encodes: false, canonical: 'A1 83 0D 18 1A 01 18 2A' },
      { name: '{13: {26: {1: 42}}}', path: '/13/26/1', tree: res(1, 'integer', 42), hex: 'A1 0D A1 18 1A A1 01 18 2A', encodes: false, canonical: 'A1 83 0D 18 1A 01 18 2A' },
      { name: '{[13, 26]: {1: 42, 2: 21}}', path: '/13/26', tree: inst(26, res(1, 'integer', 42), res(2, 'integer', 21)), hex: 'A1 82 0D 18 1A A2 01 18 2A 02 15' },
      {
        name: 'mixed forms {[13, 26, 1]: 42, [13, 26]: {[2]: 21}}',
        path: '/13',
        tree: obj(13, inst(26, res(1, 'integer', 42), res(2, 'integer', 21))),
        hex: 'A2 83 0D 18 1A 01 18 2A 82 0D 18 1A A1 81 02 15',
        encodes: false,
        canonical: 'A1 0D A1 18 1A A2 01 18 2A 02 15',
      },
      {
        name: 'a decimal fraction (tag 4) 4.5 under single-element array keys',
        path: '/13/26/1',
        tree: multi(1, 'float', { 2: 4.5 }),
        hex: 'A1 81 0D A1 81 18 1A A1 81 01 A1 81 02 C4 82 20 18 2D',
        encodes: false,
        canonical: 'A1 83 0D 18 1A 01 A1 02 FB 40 12 00 00 00 00 00 00',
      },
    ]);
  });

  describe('other shapes', () => {
    vectorSuite(LWM2M_CBOR_FORMAT, [
      { name: 'an object with an empty instance', path: '/1000', tree: obj(1000, inst(3)), hex: 'A1 19 03 E8 A1 03 A0' },
      { name: 'an empty multiple resource', path: '/3/0/11', tree: multi(11, 'integer', {}), hex: 'A1 83 03 00 0B A0' },
      { name: 'a resource instance', path: '/3/0/6/1', tree: rinst(1, 'integer', 5), hex: 'A1 84 03 00 06 01 05' },
      { name: 'opaque, objlnk, unsigned 2^64-1', path: '/1000/0', tree: inst(0, res(0, 'opaque', hex('0102')), res(10, 'objlnk', { objectId: 21, instanceId: 0 }), res(6, 'unsigned', 2n ** 64n - 1n)), hex: 'A1 82 19 03 E8 00 A3 00 42 01 02 0A 64 32 31 3A 30 06 1B FF FF FF FF FF FF FF FF' },
      { name: 'time as tag 1 (epoch seconds) is read as the number', path: '/1000/0/9', tree: res(9, 'time', 1367491215), hex: 'A1 83 19 03 E8 00 09 C1 1A 51 82 42 8F', encodes: false, canonical: 'A1 83 19 03 E8 00 09 1A 51 82 42 8F' },
    ]);
  });

  describe('malformed payloads', () => {
    malformedSuite(LWM2M_CBOR_FORMAT, [
      { name: 'a top level that is not a map', path: '/0/0', hex: '80', message: /must be a map, got an array/, offset: 0 },
      { name: 'invalid CBOR', path: '/0/0', hex: 'A1 82 00', message: /2 items cannot fit/, offset: 1 },
      { name: 'a text key', path: '/0/0', hex: 'A1 61 30 01', message: /key string/ },
      { name: 'a negative key', path: '/0/0', hex: 'A1 20 01', message: /not an id 0\.\.65535/ },
      { name: 'an empty array key', path: '/0/0', hex: 'A1 80 01', message: /empty array key/ },
      { name: 'a path deeper than /O/I/R/RI', path: '/0/0', hex: 'A1 85 00 00 00 00 00 01', message: /deeper than/ },
      { name: 'a value at instance level', path: '/0/0', hex: 'A1 82 00 00 01', message: /values belong to resources/, errorPath: '/0/0' },
      { name: 'a map as a resource instance value', path: '/3/0', hex: 'A1 84 03 00 06 00 A0', message: /map cannot be the value of a resource instance/, errorPath: '/3/0/6/0' },
      { name: 'null as a value', path: '/0/0', hex: 'A1 83 00 00 01 F6', message: /null is not a resource value/, errorPath: '/0/0/1' },
      { name: 'a text for an integer resource', path: '/0/0', hex: 'A1 83 00 00 02 61 33', message: /wrong value type for a integer resource/, errorPath: '/0/0/2' },
      { name: 'a single value for a multiple resource', path: '/3/0', hex: 'A1 83 03 00 06 01', message: /multiple-instance/, errorPath: '/3/0/6' },
      { name: 'paths that fit neither absolutely nor relative to the request', path: '/0/0', hex: 'A1 83 01 00 00 01', message: /\/0\/0\/1\/0\/0 is deeper than/ },
      { name: 'invalid UTF-8 in a string value', path: '/0/0', hex: 'A1 83 00 00 00 62 C3 28', message: /invalid UTF-8/, offset: 6 },
      { name: 'a bad object link text', path: '/0/0', hex: 'A1 83 00 00 11 62 32 31', message: /not an object link/, errorPath: '/0/0/17' },
    ]);
  });

  it('reads an empty map as an empty instance', () => {
    assert.deepStrictEqual(decode(LWM2M_CBOR_FORMAT, P('/1/0'), hex('A0'), testModel), inst(0));
  });

  it('refuses a resource node at object level when encoding', () => {
    assert.throws(
      () => encode(LWM2M_CBOR_FORMAT, P('/1'), res(1, 'integer', 1), testModel),
      (e: unknown) => assertCodecError(e, { format: LWM2M_CBOR_FORMAT, message: /needs a object node/, path: '/1' }),
    );
  });
});

/**
 * OMA-TLV against worked examples of OMA-TS-LightweightM2M_Core, Data Formats: TLV (byte for byte, both
 * ways), the Device object vector (the Core specification's example, corrected, and Leshan's TlvDecoderTest
 * variant) and Wakaama's tlvtests.c forms.
 */
import assert from 'node:assert/strict';
import { decode, encode, TLV_FORMAT } from '../../../lib/codec';
import {
  assertCodecError,
  hex,
  inst,
  malformedSuite,
  multi,
  obj,
  P,
  res,
  rinst,
  testModel,
  vectorSuite,
} from './support';

const empty = Buffer.alloc(0);
const key16 = hex('00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F');

const sec00 = inst(
  0,
  res(0, 'string', 'coap://127.0.0.1:5683'),
  res(1, 'boolean', false),
  res(2, 'integer', 3),
  res(10, 'integer', 1),
);
const SEC00_BARE = 'C8 00 15 63 6F 61 70 3A 2F 2F 31 32 37 2E 30 2E 30 2E 31 3A 35 36 38 33 C1 01 00 C1 02 03 C1 0A 01';

const server0 = inst(0, res(0, 'integer', 1), res(1, 'integer', 86400), res(6, 'boolean', false), res(7, 'string', 'U'));
const server1 = inst(1, res(0, 'integer', 2), res(1, 'integer', 300), res(6, 'boolean', true), res(7, 'string', 'U'));

const DEVICE_BARE = `
C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65
C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74
C8 02 09 33 34 35 30 30 30 31 32 33
C3 03 31 2E 30
86 06 41 00 01 41 01 05
88 07 08 42 00 0E D8 42 01 13 88
87 08 41 00 7D 42 01 03 84
C1 09 64
C1 0A 0F
83 0B 41 00 00
C4 0D 51 82 42 8F
C6 0E 2B 30 32 3A 30 30`;

function device(last: [number, string]): ReturnType<typeof inst> {
  return inst(
    0,
    res(0, 'string', 'Open Mobile Alliance'),
    res(1, 'string', 'Lightweight M2M Client'),
    res(2, 'string', '345000123'),
    res(3, 'string', '1.0'),
    multi(6, 'integer', { 0: 1, 1: 5 }),
    multi(7, 'integer', { 0: 3800, 1: 5000 }),
    multi(8, 'integer', { 0: 125, 1: 900 }),
    res(9, 'integer', 100),
    res(10, 'integer', 15),
    multi(11, 'integer', { 0: 0 }),
    res(13, 'time', 1367491215),
    res(14, 'string', '+02:00'),
    res(last[0], 'string', last[1]),
  );
}

const big300 = Buffer.alloc(300, 0xab);
const big70000 = Buffer.alloc(70000, 0x5a);
const link97 = (n: number): string => `</${n}>;` + 'x'.repeat(97 - String(n).length - 4);

describe('codec: OMA-TLV (11542)', () => {
  describe('Security /0/0 (NoSec)', () => {
    vectorSuite(TLV_FORMAT, [
      {
        name: '(a) wrapped in an Object Instance TLV, as a Read of /0 (36 bytes)',
        path: '/0',
        tree: obj(0, sec00),
        hex: `08 00 21 ${SEC00_BARE}`,
      },
      {
        name: '(a) wrapped form written to /0/0 (decoders accept it; we write the bare form)',
        path: '/0/0',
        tree: sec00,
        hex: `08 00 21 ${SEC00_BARE}`,
        encodes: false,
        canonical: SEC00_BARE,
      },
      { name: '(b) bare resource list for PUT /0/0 (33 bytes)', path: '/0/0', tree: sec00, hex: SEC00_BARE },
      {
        name: '(c) complete mandatory set with empty opaque 3, 4, 5 for PUT /0/1 (39 bytes)',
        path: '/0/1',
        tree: inst(
          1,
          res(0, 'string', 'coap://127.0.0.1:5683'),
          res(1, 'boolean', false),
          res(2, 'integer', 3),
          res(3, 'opaque', empty),
          res(4, 'opaque', empty),
          res(5, 'opaque', empty),
          res(10, 'integer', 1),
        ),
        hex: 'C8 00 15 63 6F 61 70 3A 2F 2F 31 32 37 2E 30 2E 30 2E 31 3A 35 36 38 33 C1 01 00 C1 02 03 C0 03 C0 04 C0 05 C1 0A 01',
      },
    ]);
  });

  describe('Server /1', () => {
    vectorSuite(TLV_FORMAT, [
      { name: 'one instance, wrapped (18 bytes)', path: '/1', tree: obj(1, server0), hex: '08 00 0F C1 00 01 C4 01 00 01 51 80 C1 06 00 C1 07 55' },
      {
        name: 'two instances for PUT /1 (34 bytes)',
        path: '/1',
        tree: obj(1, server0, server1),
        hex: '08 00 0F C1 00 01 C4 01 00 01 51 80 C1 06 00 C1 07 55 08 01 0D C1 00 02 C2 01 01 2C C1 06 01 C1 07 55',
      },
    ]);
  });

  describe('PSK accounts with a Multiple Resource', () => {
    vectorSuite(TLV_FORMAT, [
      {
        name: 'server account /0/1 with ciphersuite {0: 0xC0A8} (70 bytes)',
        path: '/0',
        tree: obj(
          0,
          inst(
            1,
            res(0, 'string', 'coaps://127.0.0.1:5684'),
            res(1, 'boolean', false),
            res(2, 'integer', 0),
            res(3, 'opaque', Buffer.from('dev1')),
            res(4, 'opaque', empty),
            res(5, 'opaque', key16),
            res(10, 'integer', 1),
            multi(16, 'unsigned', { 0: 0xc0a8 }),
          ),
        ),
        hex: `08 01 43
          C8 00 16 63 6F 61 70 73 3A 2F 2F 31 32 37 2E 30 2E 30 2E 31 3A 35 36 38 34
          C1 01 00 C1 02 00 C4 03 64 65 76 31 C0 04
          C8 05 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
          C1 0A 01 84 10 42 00 C0 A8`,
      },
      {
        name: 'Bootstrap-Server account /0/0 with hold-off and account timeout (75 bytes)',
        path: '/0',
        tree: obj(
          0,
          inst(
            0,
            res(0, 'string', 'coaps://bs.example.com:5684'),
            res(1, 'boolean', true),
            res(2, 'integer', 0),
            res(3, 'opaque', Buffer.from('dev1-bs')),
            res(4, 'opaque', empty),
            res(5, 'opaque', key16),
            res(11, 'integer', 10),
            res(12, 'integer', 0),
          ),
        ),
        hex: `08 00 48 C8 00 1B 63 6F 61 70 73 3A 2F 2F 62 73 2E 65 78 61 6D 70 6C 65 2E 63 6F 6D 3A 35 36 38 34
          C1 01 01 C1 02 00 C7 03 64 65 76 31 2D 62 73 C0 04 C8 05 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
          C1 0B 0A C1 0C 00`,
      },
    ]);
  });

  describe('other headers and value encodings', () => {
    vectorSuite(TLV_FORMAT, [
      { name: '16-bit resource id: /3303/0/5700 float 21.5', path: '/3303/0/5700', tree: res(5700, 'float', 21.5), hex: 'E4 16 44 41 AC 00 00' },
      { name: 'objlnk 21:0', path: '/0/1/17', tree: res(17, 'objlnk', { objectId: 21, instanceId: 0 }), hex: 'C4 11 00 15 00 00' },
      { name: 'null objlnk 65535:65535', path: '/0/1/17', tree: res(17, 'objlnk', { objectId: 65535, instanceId: 65535 }), hex: 'C4 11 FF FF FF FF' },
      { name: "Leshan's decode_object_link: 12345678 is 0x1234:0x5678", path: '/0/1/17', tree: res(17, 'objlnk', { objectId: 0x1234, instanceId: 0x5678 }), hex: 'C4 11 12 34 56 78' },
      { name: 'opaque of 300 bytes (16-bit length)', path: '/0/1/3', tree: res(3, 'opaque', big300), hex: 'D0 03 01 2C' + big300.toString('hex') },
      { name: 'opaque of 70000 bytes (24-bit length)', path: '/1000/0/0', tree: res(0, 'opaque', big70000), hex: 'D8 00 01 11 70' + big70000.toString('hex') },
      { name: 'integer 3', path: '/1000/0/5', tree: res(5, 'integer', 3), hex: 'C1 05 03' },
      { name: 'integer -1', path: '/1000/0/5', tree: res(5, 'integer', -1), hex: 'C1 05 FF' },
      { name: 'integer 128 needs 2 bytes', path: '/1000/0/5', tree: res(5, 'integer', 128), hex: 'C2 05 00 80' },
      { name: 'integer -129', path: '/1000/0/5', tree: res(5, 'integer', -129), hex: 'C2 05 FF 7F' },
      { name: 'integer 86400 needs 4 bytes', path: '/1000/0/5', tree: res(5, 'integer', 86400), hex: 'C4 05 00 01 51 80' },
      { name: 'integer 2^31 needs 8 bytes', path: '/1000/0/5', tree: res(5, 'integer', 2 ** 31), hex: 'C8 05 08 00 00 00 00 80 00 00 00' },
      { name: 'integer -2^63 (bigint)', path: '/1000/0/5', tree: res(5, 'integer', -(2n ** 63n)), hex: 'C8 05 08 80 00 00 00 00 00 00 00' },
      { name: 'unsigned 0xC0A8 in 2 bytes', path: '/1000/0/6', tree: res(6, 'unsigned', 0xc0a8), hex: 'C2 06 C0 A8' },
      { name: 'unsigned 2^64-1 (bigint)', path: '/1000/0/6', tree: res(6, 'unsigned', 2n ** 64n - 1n), hex: 'C8 06 08 FF FF FF FF FF FF FF FF' },
      { name: 'unsigned 2^32 (above 2^31, a number)', path: '/1000/0/6', tree: res(6, 'unsigned', 2 ** 32), hex: 'C8 06 08 00 00 00 01 00 00 00 00' },
      { name: 'float 0.1 needs 8 bytes', path: '/1000/0/7', tree: res(7, 'float', 0.1), hex: 'C8 07 08 3F B9 99 99 99 99 99 9A' },
      { name: 'boolean true', path: '/1000/0/8', tree: res(8, 'boolean', true), hex: 'C1 08 01' },
      { name: 'time 1367491215', path: '/1000/0/9', tree: res(9, 'time', 1367491215), hex: 'C4 09 51 82 42 8F' },
      { name: 'empty string', path: '/1000/0/12', tree: res(12, 'string', ''), hex: 'C0 0C' },
      { name: 'empty Multiple Resource 11', path: '/3/0/11', tree: multi(11, 'integer', {}), hex: '80 0B' },
      { name: 'resource instance /1000/0/25/3 (1.1+)', path: '/1000/0/25/3', tree: rinst(3, 'integer', 7), hex: '41 03 07' },
      {
        name: 'an 8-bit length field for a 3-byte value (decoders accept any valid choice)',
        path: '/1000/0/12',
        tree: res(12, 'string', 'abc'),
        hex: 'C8 0C 03 61 62 63',
        encodes: false,
        canonical: 'C3 0C 61 62 63',
      },
      { name: 'a 16-bit id field for id 5', path: '/1000/0/5', tree: res(5, 'integer', -1), hex: 'E1 00 05 FF', encodes: false, canonical: 'C1 05 FF' },
      {
        name: 'a resource instance wrapped in its Multiple Resource TLV',
        path: '/1000/0/25/3',
        tree: rinst(3, 'integer', 7),
        hex: '83 19 41 03 07',
        encodes: false,
        canonical: '41 03 07',
      },
      {
        name: 'a multiple resource answered with bare Resource Instance TLVs',
        path: '/3/0/6',
        tree: multi(6, 'integer', { 0: 1, 1: 5 }),
        hex: '41 00 01 41 01 05',
        encodes: false,
        canonical: '86 06 41 00 01 41 01 05',
      },
    ]);
  });

  describe("Wakaama tlvtests.c forms", () => {
    vectorSuite(TLV_FORMAT, [
      { name: 'C3 37 01 02 03 = resource 55, 3 bytes (unknown resource: opaque)', path: '/1000/0/55', tree: res(55, 'opaque', hex('010203')), hex: 'C3 37 01 02 03' },
      {
        name: '28 02 03 09 = Object Instance 0x0203 (16-bit id, 8-bit length 9)',
        path: '/1000',
        tree: obj(1000, inst(0x0203, res(5, 'integer', 1), res(6, 'unsigned', 2), res(8, 'boolean', true))),
        hex: '28 02 03 09 C1 05 01 C1 06 02 C1 08 01',
      },
      {
        name: '90 21 01 90 = Multiple Resource 33 with 16-bit length 0x0190',
        path: '/1000/0/33',
        tree: multi(33, 'corelnk', { 0: link97(0), 1: link97(1), 2: link97(2), 3: link97(3) }),
        hex:
          '90 21 01 90' +
          [0, 1, 2, 3].map((i) => `48 0${i} 61 ${Buffer.from(link97(i)).toString('hex')}`).join(' '),
      },
    ]);
  });

  describe('Device object test vector', () => {
    vectorSuite(TLV_FORMAT, [
      { name: 'Read /3/0 (121 bytes, corrected Core spec example)', path: '/3/0', tree: device([16, 'U']), hex: `${DEVICE_BARE} C1 10 55` },
      { name: 'Read /3 wrapped by 08 00 79 (124 bytes)', path: '/3', tree: obj(3, device([16, 'U'])), hex: `08 00 79 ${DEVICE_BARE} C1 10 55` },
      {
        name: "Leshan TlvDecoderTest.decode_device_object (last TLV C1 0F 55, commit 4810538)",
        path: '/3/0',
        tree: device([15, 'U']),
        hex: `${DEVICE_BARE} C1 0F 55`,
      },
    ]);
    it('is 121 bytes long, as the specification says', () => {
      assert.equal(encode(TLV_FORMAT, P('/3/0'), device([16, 'U']), testModel).length, 121);
    });
  });

  it('reads the legacy Content-Format 1542 like 11542', () => {
    assert.deepStrictEqual(decode(1542, P('/0/0'), hex(SEC00_BARE), testModel), sec00);
  });

  describe('malformed payloads', () => {
    malformedSuite(TLV_FORMAT, [
      { name: 'a TLV whose length runs past the buffer', path: '/0/0', hex: 'C8 00 15 63 6F', message: /runs past the end/, offset: 0 },
      { name: 'a header cut after the type byte', path: '/0/0', hex: 'C1 0A 01 C8', message: /truncated TLV: identifier/, offset: 3 },
      { name: 'a header cut inside the length field', path: '/0/0', hex: 'D0 03 01', message: /truncated TLV: length field/, offset: 0 },
      { name: 'a nested TLV longer than its Object Instance', path: '/0', hex: '08 00 03 C4 00 01', message: /past the end of its container/, offset: 3 },
      { name: 'an Object Instance inside an Object Instance', path: '/0', hex: '08 00 02 00 00', message: /cannot sit inside a Object Instance/, offset: 3 },
      { name: 'a Resource inside a Multiple Resource', path: '/3/0', hex: '83 06 C1 00 01', message: /cannot sit inside a Multiple Resource/, offset: 2 },
      { name: 'a boolean of 2 bytes', path: '/0/0', hex: 'C2 01 00 01', message: /boolean value must be one byte/, offset: 2, errorPath: '/0/0/1' },
      { name: 'a boolean byte 02', path: '/0/0/1', hex: 'C1 01 02', message: /boolean value must be one byte 00 or 01, got 02/, offset: 2 },
      { name: 'an integer of 3 bytes', path: '/0/0/2', hex: 'C3 02 00 00 01', message: /must be 1, 2, 4 or 8 bytes, got 3/, offset: 2 },
      { name: 'a float of 2 bytes', path: '/3303/0/5700', hex: 'E2 16 44 00 00', message: /float value must be 4 or 8 bytes/, offset: 3 },
      { name: 'an objlnk of 3 bytes', path: '/0/0/17', hex: 'C3 11 00 15 00', message: /objlnk value must be 4 bytes/, offset: 2 },
      { name: 'invalid UTF-8 in a string resource', path: '/0/0', hex: 'C1 0A 01 C2 00 C3 28', message: /invalid UTF-8/, offset: 5, errorPath: '/0/0/0' },
      { name: 'a bare Resource TLV at object level', path: '/0', hex: 'C1 0A 01', message: /expected a Object Instance TLV, got a Resource TLV/, offset: 0 },
      { name: 'a wrapper of another instance id', path: '/0/0', hex: '08 01 03 C1 0A 01', message: /wraps Object Instance 1, not 0/, offset: 0 },
      { name: 'two TLVs for one resource path', path: '/0/0/10', hex: 'C1 0A 01 C1 0A 02', message: /expected one Resource TLV, got 2/ },
      { name: 'a Resource TLV of another id', path: '/0/0/10', hex: 'C1 0B 01', message: /resource 11, not 10/, offset: 0 },
      { name: 'a single value for a multiple-instance resource', path: '/3/0', hex: 'C1 06 01', message: /multiple-instance/, offset: 0, errorPath: '/3/0/6' },
      { name: 'resource instances for a single-instance resource', path: '/1/0', hex: '83 01 41 00 01', message: /single-instance/, offset: 0, errorPath: '/1/0/1' },
      { name: 'a resource given twice', path: '/0/0', hex: 'C1 0A 01 C1 0A 02', message: /twice/, offset: 3, errorPath: '/0/0/10' },
      { name: 'a value for an executable resource', path: '/1/0', hex: 'C1 08 01', message: /carries no value/, offset: 2, errorPath: '/1/0/8' },
      { name: 'a payload for the root path', path: '/', hex: '08 00 00', message: /whole tree/ },
      { name: 'an empty payload for a single resource', path: '/0/0/1', hex: '', message: /expected one Resource TLV, got 0/ },
    ]);

    it('rejects a payload that is not a Buffer', () => {
      assert.throws(
        () => decode(TLV_FORMAT, P('/0/0'), 'C10A01' as unknown as Buffer, testModel),
        (e: unknown) => assertCodecError(e, { format: TLV_FORMAT, message: /payload must be a Buffer/, path: '/0/0' }),
      );
    });
  });

  describe('encoding bad trees', () => {
    const cases: [string, string, Parameters<typeof encode>[2], RegExp, string][] = [
      ['a text for an integer resource', '/0/0/2', res(2, 'integer', '3'), /expected a whole number/, '/0/0/2'],
      ['a fraction for an integer resource', '/0/0/2', res(2, 'integer', 1.5), /expected a whole number/, '/0/0/2'],
      ['2^63 for an integer resource', '/0/0/2', res(2, 'integer', 2n ** 63n), /outside the integer range/, '/0/0/2'],
      ['a negative unsigned', '/1000/0/6', res(6, 'unsigned', -1), /outside the unsigned range/, '/1000/0/6'],
      ['a number for a boolean', '/0/0/1', res(1, 'boolean', 0), /expected true or false/, '/0/0/1'],
      ['a string for an opaque resource', '/0/0/3', res(3, 'opaque', 'dev1'), /expected bytes/, '/0/0/3'],
      ['an objlnk id above 65535', '/0/0/17', res(17, 'objlnk', { objectId: 70000, instanceId: 0 }), /objlnk/, '/0/0/17'],
      ['a lone surrogate in a string', '/0/0/0', res(0, 'string', 'a\ud800b'), /lone UTF-16 surrogate/, '/0/0/0'],
      ['a value for an executable resource', '/1/0/8', res(8, 'none', 1), /executable/, '/1/0/8'],
      ['a single value for a multiple-instance resource', '/3/0/6', res(6, 'integer', 1), /multiple-instance/, '/3/0/6'],
      ['instances for a single-instance resource', '/3/0/9', multi(9, 'integer', { 0: 1 }), /single-instance/, '/3/0/9'],
      ['a resource node at an instance path', '/0/0', res(0, 'string', 'x'), /needs a instance node/, '/0/0'],
      ['a node whose id differs from the path', '/0/1', sec00, /node id 0 does not match/, '/0/1'],
      ['a tree for the root path', '/', { kind: 'root', objects: new Map() }, /whole tree/, '/'],
      ['a map entry keyed under another id', '/0', { kind: 'object', id: 0, instances: new Map([[5, sec00]]) }, /key 5 has id 0/, '/0'],
    ];
    for (const [name, path, node, message, errPath] of cases) {
      it(`rejects ${name}`, () => {
        assert.throws(
          () => encode(TLV_FORMAT, P(path), node, testModel),
          (e: unknown) => assertCodecError(e, { format: TLV_FORMAT, message, path: errPath, offset: null }),
        );
      });
    }
  });
});

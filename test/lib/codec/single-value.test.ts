/** The single-value formats: plain text (0), opaque (42) and CBOR (60), OMA-TS-LightweightM2M_Core, Data Formats: Plain Text, Opaque, CBOR. */
import assert from 'node:assert/strict';
import { CBOR_FORMAT, encode, OPAQUE_FORMAT, plainDecimal, TEXT_FORMAT } from '../../../lib/codec';
import { assertCodecError, hex, malformedSuite, multi, P, res, rinst, testModel, vectorSuite } from './support';

describe('codec: plain text (0)', () => {
  vectorSuite(TEXT_FORMAT, [
    { name: 'Binding "U"', path: '/1/0/7', tree: res(7, 'string', 'U'), text: 'U' },
    { name: 'lifetime 86400', path: '/1/0/1', tree: res(1, 'integer', 86400), text: '86400' },
    { name: 'integer -750', path: '/1000/0/5', tree: res(5, 'integer', -750), text: '-750' },
    { name: 'unsigned 2^64-1', path: '/1000/0/6', tree: res(6, 'unsigned', 2n ** 64n - 1n), text: '18446744073709551615' },
    { name: 'float 0.00000000006667 without exponent', path: '/1000/0/7', tree: res(7, 'float', 6.667e-11), text: '0.00000000006667' },
    { name: 'float 1e21 without exponent', path: '/1000/0/7', tree: res(7, 'float', 1e21), text: '1000000000000000000000' },
    { name: 'float -21.5', path: '/1000/0/7', tree: res(7, 'float', -21.5), text: '-21.5' },
    { name: 'boolean true is 1', path: '/1/0/6', tree: res(6, 'boolean', true), text: '1' },
    { name: 'boolean false is 0', path: '/1/0/6', tree: res(6, 'boolean', false), text: '0' },
    { name: 'opaque as base64', path: '/0/0/3', tree: res(3, 'opaque', Buffer.from('dev1')), text: 'ZGV2MQ==' },
    { name: 'objlnk "21:0"', path: '/0/0/17', tree: res(17, 'objlnk', { objectId: 21, instanceId: 0 }), text: '21:0' },
    { name: 'time in seconds', path: '/1000/0/9', tree: res(9, 'time', 1367491215), text: '1367491215' },
    { name: 'a resource instance', path: '/0/0/16/0', tree: rinst(0, 'unsigned', 49320), text: '49320' },
    { name: 'an unknown resource reads as a string', path: '/1000/0/77', tree: res(77, 'string', '0x7'), text: '0x7' },
    { name: 'an empty string', path: '/1/0/7', tree: res(7, 'string', ''), text: '' },
    { name: 'a plus sign and whitespace around a number', path: '/1000/0/5', tree: res(5, 'integer', 5), text: ' +5\n', encodes: false, canonical: '5' },
    { name: 'a float with an exponent', path: '/1000/0/7', tree: res(7, 'float', 1000), text: '1e3', encodes: false, canonical: '1000' },
    { name: 'opaque in url-safe base64 without padding', path: '/0/0/3', tree: res(3, 'opaque', hex('fbff')), text: '-_8', encodes: false, canonical: '+/8=' },
  ]);

  describe('malformed payloads', () => {
    malformedSuite(TEXT_FORMAT, [
      { name: 'letters for an integer', path: '/1/0/1', text: 'abc', message: /"abc" is not a whole number/, offset: 0 },
      { name: 'a fraction for an integer', path: '/1/0/1', text: '1.5', message: /not a whole number/ },
      { name: 'an integer beyond 64 bits', path: '/1/0/1', text: '9223372036854775808', message: /outside the integer range/ },
      { name: 'a negative unsigned', path: '/1000/0/6', text: '-1', message: /outside the unsigned range/ },
      { name: '2 for a boolean', path: '/1/0/6', text: '2', message: /"0" or "1"/ },
      { name: 'text for a float', path: '/1000/0/7', text: 'NaN', message: /not a decimal number/ },
      { name: 'invalid UTF-8', path: '/1/0/7', hex: '55 C3 28', message: /invalid UTF-8/, offset: 1 },
      { name: 'bad base64 for opaque', path: '/0/0/3', text: 'a', message: /must be base64/ },
      { name: 'a bad object link', path: '/0/0/17', text: '21', message: /not an object link/ },
      { name: 'an instance path', path: '/0/0', text: 'x', message: /path must be \/O\/I\/R or \/O\/I\/R\/RI/ },
      { name: 'a multiple-instance resource', path: '/3/0/6', text: '1', message: /cannot carry a multiple-instance resource/ },
      { name: 'a resource instance of a single resource', path: '/0/0/1/0', text: '1', message: /single-instance/ },
      { name: 'an executable resource', path: '/1/0/8', text: '1', message: /executable/ },
    ]);
  });

  it('refuses to encode NaN and a multiple resource', () => {
    assert.throws(
      () => encode(TEXT_FORMAT, P('/1000/0/7'), res(7, 'float', NaN), testModel),
      (e: unknown) => assertCodecError(e, { format: TEXT_FORMAT, message: /no plain-text form/, path: '/1000/0/7' }),
    );
    assert.throws(
      () => encode(TEXT_FORMAT, P('/3/0/6'), multi(6, 'integer', { 0: 1 }), testModel),
      (e: unknown) => assertCodecError(e, { format: TEXT_FORMAT, message: /multiple-instance/, path: '/3/0/6' }),
    );
  });

  it('writes decimals without exponent that read back exactly', () => {
    for (const x of [1e-7, 1.5e-10, 123456789e-20, 9.999e22, -3.14e-5, 5e-324, 1.7976931348623157e308]) {
      const s = plainDecimal(x);
      assert.doesNotMatch(s, /e/i);
      assert.equal(Number(s), x);
    }
  });
});

describe('codec: opaque (42)', () => {
  vectorSuite(OPAQUE_FORMAT, [
    { name: 'a PSK as raw bytes', path: '/0/1/5', tree: res(5, 'opaque', hex('000102030405060708090A0B0C0D0E0F')), hex: '000102030405060708090A0B0C0D0E0F' },
    { name: 'an empty value', path: '/0/1/4', tree: res(4, 'opaque', Buffer.alloc(0)), hex: '' },
    { name: 'an opaque resource instance', path: '/1000/0/20/2', tree: rinst(2, 'opaque', hex('ff')), hex: 'ff' },
    { name: 'an unknown resource', path: '/1000/0/77', tree: res(77, 'opaque', hex('c0ffee')), hex: 'c0ffee' },
  ]);
  malformedSuite(OPAQUE_FORMAT, [
    { name: 'a string resource', path: '/0/1/0', hex: '61', message: /opaque resources only, this one is string/ },
    { name: 'an object path', path: '/0', hex: '61', message: /must be \/O\/I\/R/ },
  ]);
  it('refuses to encode a string resource', () => {
    assert.throws(
      () => encode(OPAQUE_FORMAT, P('/0/1/0'), res(0, 'string', 'x'), testModel),
      (e: unknown) => assertCodecError(e, { format: OPAQUE_FORMAT, message: /opaque resources only/ }),
    );
  });
});

describe('codec: CBOR single value (60)', () => {
  vectorSuite(CBOR_FORMAT, [
    { name: 'Binding "U" = 61 55', path: '/1/0/7', tree: res(7, 'string', 'U'), hex: '61 55' },
    { name: 'lifetime 86400 = 1A 00 01 51 80', path: '/1/0/1', tree: res(1, 'integer', 86400), hex: '1A 00 01 51 80' },
    { name: 'true = F5', path: '/1/0/6', tree: res(6, 'boolean', true), hex: 'F5' },
    { name: 'integer -1', path: '/1000/0/5', tree: res(5, 'integer', -1), hex: '20' },
    { name: 'integer -2^63', path: '/1000/0/5', tree: res(5, 'integer', -(2n ** 63n)), hex: '3B 7F FF FF FF FF FF FF FF' },
    { name: 'unsigned 2^64-1', path: '/1000/0/6', tree: res(6, 'unsigned', 2n ** 64n - 1n), hex: '1B FF FF FF FF FF FF FF FF' },
    { name: 'opaque as a byte string', path: '/0/0/3', tree: res(3, 'opaque', Buffer.from('dev1')), hex: '44 64 65 76 31' },
    { name: 'objlnk as text', path: '/0/0/17', tree: res(17, 'objlnk', { objectId: 21, instanceId: 0 }), hex: '64 32 31 3A 30' },
    { name: 'float 21.5', path: '/3303/0/5700', tree: res(5700, 'float', 21.5), hex: 'FB 40 35 80 00 00 00 00 00' },
    { name: 'a ciphersuite resource instance', path: '/0/0/16/0', tree: rinst(0, 'unsigned', 0xc0a8), hex: '19 C0 A8' },
    { name: 'a half-precision float', path: '/3303/0/5700', tree: res(5700, 'float', 1.5), hex: 'F9 3E 00', encodes: false, canonical: 'FB 3F F8 00 00 00 00 00 00' },
    { name: 'a float32', path: '/3303/0/5700', tree: res(5700, 'float', 21.5), hex: 'FA 41 AC 00 00', encodes: false, canonical: 'FB 40 35 80 00 00 00 00 00' },
    { name: 'time under tag 1', path: '/1000/0/9', tree: res(9, 'time', 1367491215), hex: 'C1 1A 51 82 42 8F', encodes: false, canonical: '1A 51 82 42 8F' },
    { name: 'an unknown resource typed by its item', path: '/1000/0/77', tree: res(77, 'string', 'x'), hex: '61 78' },
  ]);
  malformedSuite(CBOR_FORMAT, [
    { name: 'a map', path: '/1/0/1', hex: 'A0', message: /a map is not a resource value/, offset: 0 },
    { name: 'two items', path: '/1/0/1', hex: '01 02', message: /1 unexpected byte/, offset: 1 },
    { name: 'an empty payload', path: '/1/0/1', hex: '', message: /empty CBOR payload/, offset: 0 },
    { name: 'text for an integer', path: '/1/0/1', hex: '61 31', message: /wrong value type for a integer resource/ },
    { name: 'an integer for a boolean', path: '/1/0/6', hex: '01', message: /wrong value type for a boolean resource/ },
    { name: 'invalid UTF-8', path: '/1/0/7', hex: '62 C3 28', message: /invalid UTF-8/, offset: 1 },
    { name: 'a fractional time', path: '/1000/0/9', hex: 'FB 3F F8 00 00 00 00 00 00', message: /not a whole number/ },
  ]);
});

/** SenML CBOR (112) against RFC 8428 and OMA-TS-LightweightM2M_Core, Data Formats: SenML CBOR, OMA issue #484 and Anjay's senml_cbor_out.c vectors. */
import assert from 'node:assert/strict';
import { decode, encode, SENML_CBOR_FORMAT } from '../../../lib/codec';
import { hex, inst, malformedSuite, multi, obj, P, res, rinst, root, testModel, vectorSuite } from './support';

const URI = 'coap://127.0.0.1:5683';
const sec00 = inst(0, res(0, 'string', URI), res(1, 'boolean', false), res(2, 'integer', 3), res(10, 'integer', 1));

describe('codec: SenML CBOR (112)', () => {
  describe('SenML CBOR examples', () => {
    vectorSuite(SENML_CBOR_FORMAT, [
      {
        name: 'Security /0/0 (54 bytes)',
        path: '/0/0',
        tree: sec00,
        hex: `84 A3 21 65 2F 30 2F 30 2F 00 61 30 03 75 63 6F 61 70 3A 2F 2F 31 32 37 2E 30 2E 30 2E 31 3A 35 36 38 33
              A2 00 61 31 04 F4  A2 00 61 32 02 03  A2 00 62 31 30 02 01`,
      },
      {
        name: 'Server /1/0 (37 bytes)',
        path: '/1/0',
        tree: inst(0, res(0, 'integer', 1), res(1, 'integer', 86400), res(6, 'boolean', false), res(7, 'string', 'U')),
        hex: '84 A3 21 65 2F 31 2F 30 2F 00 61 30 02 01 A2 00 61 31 02 1A 00 01 51 80 A2 00 61 36 04 F4 A2 00 61 37 03 61 55',
      },
      {
        name: 'opaque as byte string (key 8) and objlnk under the text key "vlo" (32 bytes)',
        path: '/0/1',
        tree: inst(1, res(3, 'opaque', Buffer.from('dev1')), res(17, 'objlnk', { objectId: 21, instanceId: 0 })),
        hex: '82 A3 21 65 2F 30 2F 31 2F 00 61 33 08 44 64 65 76 31 A2 00 62 31 37 63 76 6C 6F 64 32 31 3A 30',
      },
      {
        name: 'OMA issue #484: [{"n":"/65/0/0/0","vlo":"66:0"}] (unknown object: type from vlo)',
        path: '/',
        tree: root(obj(65, inst(0, multi(0, 'objlnk', { 0: { objectId: 66, instanceId: 0 } })))),
        hex: '81 A2 00 69 2F 36 35 2F 30 2F 30 2F 30 63 76 6C 6F 64 36 36 3A 30',
        encodes: false,
        canonical: '81 A3 21 61 2F 00 68 36 35 2F 30 2F 30 2F 30 63 76 6C 6F 64 36 36 3A 30',
      },
      {
        name: 'OMA issue #484 read at the resource instance path',
        path: '/65/0/0/0',
        tree: rinst(0, 'objlnk', { objectId: 66, instanceId: 0 }),
        hex: '81 A2 00 69 2F 36 35 2F 30 2F 30 2F 30 63 76 6C 6F 64 36 36 3A 30',
        encodes: false,
        canonical: '81 A2 21 69 2F 36 35 2F 30 2F 30 2F 30 63 76 6C 6F 64 36 36 3A 30',
      },
      {
        name: 'Anjay senml_cbor_out.c: [{"bn":"/13/26/1","v":42}]',
        path: '/13/26/1',
        tree: res(1, 'integer', 42),
        hex: '81 A2 21 68 2F 31 33 2F 32 36 2F 31 02 18 2A',
      },
      {
        name: 'Anjay senml_cbor_out.c: [{"bn":"/13/26","n":"/1","v":42},{"n":"/2","v":21}]',
        path: '/13/26',
        tree: inst(26, res(1, 'integer', 42), res(2, 'integer', 21)),
        hex: '82 A3 21 66 2F 31 33 2F 32 36 00 62 2F 31 02 18 2A A2 00 62 2F 32 02 15',
        encodes: false,
        canonical: '82 A3 21 67 2F 31 33 2F 32 36 2F 00 61 31 02 18 2A A2 00 61 32 02 15',
      },
    ]);
  });

  describe('what peers may choose', () => {
    vectorSuite(SENML_CBOR_FORMAT, [
      {
        name: 'text keys "bn", "n", "v" instead of integer labels',
        path: '/13/26/1',
        tree: res(1, 'integer', 42),
        hex: '81 A2 62 62 6E 68 2F 31 33 2F 32 36 2F 31 61 76 18 2A',
        encodes: false,
        canonical: '81 A2 21 68 2F 31 33 2F 32 36 2F 31 02 18 2A',
      },
      {
        name: 'indefinite-length array and map',
        path: '/13/26/1',
        tree: res(1, 'integer', 42),
        hex: '9F BF 21 68 2F 31 33 2F 32 36 2F 31 02 18 2A FF FF',
        encodes: false,
        canonical: '81 A2 21 68 2F 31 33 2F 32 36 2F 31 02 18 2A',
      },
      {
        name: 'a float32 value',
        path: '/3303/0/5700',
        tree: res(5700, 'float', 21.5),
        hex: '81 A2 21 6C 2F 33 33 30 33 2F 30 2F 35 37 30 30 02 FA 41 AC 00 00',
        encodes: false,
        canonical: '81 A2 21 6C 2F 33 33 30 33 2F 30 2F 35 37 30 30 02 FB 40 35 80 00 00 00 00 00',
      },
      {
        name: 'unsigned 2^64-1 as a 64-bit CBOR integer',
        path: '/1000/0/6',
        tree: res(6, 'unsigned', 2n ** 64n - 1n),
        hex: '81 A2 21 69 2F 31 30 30 30 2F 30 2F 36 02 1B FF FF FF FF FF FF FF FF',
      },
      {
        name: 'unsigned 2^32 as a CBOR integer (not a float)',
        path: '/1000/0/6',
        tree: res(6, 'unsigned', 2 ** 32),
        hex: '81 A2 21 69 2F 31 30 30 30 2F 30 2F 36 02 1B 00 00 00 01 00 00 00 00',
      },
      {
        name: 'a time under tag 1 (epoch seconds)',
        path: '/1000/0/9',
        tree: res(9, 'time', 1367491215),
        hex: '81 A2 21 69 2F 31 30 30 30 2F 30 2F 39 02 C1 1A 51 82 42 8F',
        encodes: false,
        canonical: '81 A2 21 69 2F 31 30 30 30 2F 30 2F 39 02 1A 51 82 42 8F',
      },
      {
        name: 'integer -1',
        path: '/1000/0/5',
        tree: res(5, 'integer', -1),
        hex: '81 A2 21 69 2F 31 30 30 30 2F 30 2F 35 02 20',
      },
    ]);
  });

  describe('malformed payloads', () => {
    malformedSuite(SENML_CBOR_FORMAT, [
      { name: 'an array longer than the payload', path: '/0/0', hex: '84 A3 21', message: /4 items cannot fit/, offset: 0 },
      { name: 'truncated CBOR (an item missing)', path: '/0/0', hex: '82 A1 00 00', message: /an item is missing/, offset: 4 },
      { name: 'a header cut short', path: '/0/0', hex: '81 A1 00 19 01', message: /header runs past the end/, offset: 3 },
      { name: 'a string running past the end', path: '/0/0', hex: '81 A1 00 65 2F 30', message: /string of 5 bytes runs past the end/, offset: 3 },
      { name: 'bytes after the item', path: '/0/0', hex: '80 00', message: /1 unexpected byte/, offset: 1 },
      { name: 'a stray break code', path: '/0/0', hex: 'FF', message: /break code outside/, offset: 0 },
      { name: 'reserved additional information', path: '/0/0', hex: '81 1C', message: /reserved additional information 28/, offset: 1 },
      { name: 'an indefinite-length string', path: '/0/0', hex: '81 A1 00 7F 61 61 FF', message: /indefinite-length CBOR strings/, offset: 3 },
      { name: 'an unassigned simple value', path: '/0/0', hex: '81 A1 02 E0', message: /unsupported CBOR simple value/, offset: 3 },
      { name: 'an empty payload', path: '/0/0', hex: '', message: /empty CBOR payload/, offset: 0 },
      { name: 'a top level that is not an array', path: '/0/0', hex: 'A0', message: /must be an array of records, got a map/, offset: 0 },
      { name: 'a record that is not a map', path: '/0/0', hex: '82 A2 00 67 2F 30 2F 30 2F 31 30 02 01 01', message: /record 1 is number, not a CBOR map/, offset: 13 },
      { name: 'an unknown integer label', path: '/0/0', hex: '81 A2 00 67 2F 30 2F 30 2F 31 30 18 2A 01', message: /unknown SenML label 42/, offset: 1 },
      { name: 'an unknown text label', path: '/0/0', hex: '81 A2 00 67 2F 30 2F 30 2F 31 30 63 66 6F 6F 01', message: /unknown SenML label "foo"/ },
      { name: 'a label given as integer and as text', path: '/0/0', hex: '81 A3 00 67 2F 30 2F 30 2F 31 30 61 6E 61 78 02 01', message: /label "n" given twice/ },
      { name: 'invalid UTF-8 in a text string', path: '/0/0', hex: '81 A2 00 62 C3 28 02 01', message: /invalid UTF-8/, offset: 4 },
      { name: 'a record without a name', path: '/0/0', hex: '81 A1 02 01', message: /record 0 has no name/, offset: 1 },
      { name: 'vd as text instead of a byte string', path: '/0/0', hex: '81 A2 00 66 2F 30 2F 30 2F 33 08 61 41', message: /"vd" must be a byte string, got string/ },
      { name: 'a base name that is no path prefix', path: '/0/0', hex: '81 A3 21 63 61 62 63 00 61 31 04 F5', message: /base name "abc"/ },
      { name: 'a fraction for an integer resource', path: '/0/0', hex: '81 A2 00 66 2F 30 2F 30 2F 32 02 FB 3F F8 00 00 00 00 00 00', message: /1.5 is not a whole number/, errorPath: '/0/0/2' },
      { name: 'a text value for a boolean resource', path: '/0/0', hex: '81 A2 00 66 2F 30 2F 30 2F 31 03 61 31', message: /wrong value type for a boolean resource/, errorPath: '/0/0/1' },
    ]);
  });

  it('writes Maps without tag 259 and opaque without typed-array tags', () => {
    const out = encode(SENML_CBOR_FORMAT, P('/1000/0/0'), res(0, 'opaque', new Uint8Array([1, 2]) as unknown as Buffer), testModel);
    assert.equal(out.toString('hex'), '81a221692f313030302f302f3008420102');
    assert.deepStrictEqual(decode(SENML_CBOR_FORMAT, P('/1000/0/0'), out, testModel), res(0, 'opaque', hex('0102')));
  });
});

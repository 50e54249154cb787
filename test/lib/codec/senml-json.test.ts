/** SenML JSON (110) against RFC 8428 and OMA-TS-LightweightM2M_Core, Data Formats: SenML JSON, and a Bootstrap-Pack (Bootstrap-Pack-Request, LwM2M 1.2). */
import assert from 'node:assert/strict';
import { decode, encode, SENML_JSON_FORMAT } from '../../../lib/codec';
import { assertCodecError, hex, inst, malformedSuite, multi, obj, P, res, rinst, root, testModel, vectorSuite } from './support';

const URI = 'coap://127.0.0.1:5683';
const sec00 = inst(0, res(0, 'string', URI), res(1, 'boolean', false), res(2, 'integer', 3), res(10, 'integer', 1));

describe('codec: SenML JSON (110)', () => {
  describe('SenML JSON examples', () => {
    vectorSuite(SENML_JSON_FORMAT, [
      {
        name: 'Security /0/0 (107 bytes)',
        path: '/0/0',
        tree: sec00,
        text: `[{"bn":"/0/0/","n":"0","vs":"${URI}"},{"n":"1","vb":false},{"n":"2","v":3},{"n":"10","v":1}]`,
      },
      {
        name: 'Server /1/0 (90 bytes)',
        path: '/1/0',
        tree: inst(0, res(0, 'integer', 1), res(1, 'integer', 86400), res(6, 'boolean', false), res(7, 'string', 'U')),
        text: '[{"bn":"/1/0/","n":"0","v":1},{"n":"1","v":86400},{"n":"6","vb":false},{"n":"7","vs":"U"}]',
      },
      {
        name: 'opaque (base64url, no padding) and objlnk (vlo)',
        path: '/0/1',
        tree: inst(
          1,
          res(3, 'opaque', Buffer.from('dev1')),
          res(5, 'opaque', hex('000102030405060708090A0B0C0D0E0F')),
          res(17, 'objlnk', { objectId: 21, instanceId: 0 }),
        ),
        text: '[{"bn":"/0/1/","n":"3","vd":"ZGV2MQ"},{"n":"5","vd":"AAECAwQFBgcICQoLDA0ODw"},{"n":"17","vlo":"21:0"}]',
      },
      {
        name: 'equivalent name form bn "/0/0" + n "/0"',
        path: '/0/0',
        tree: inst(0, res(0, 'string', URI)),
        text: `[{"bn":"/0/0","n":"/0","vs":"${URI}"}]`,
        encodes: false,
        canonical: `[{"bn":"/0/0/","n":"0","vs":"${URI}"}]`,
      },
      {
        name: 'equivalent name form: full path in n, no bn',
        path: '/0/0',
        tree: inst(0, res(0, 'string', URI)),
        text: `[{"n":"/0/0/0","vs":"${URI}"}]`,
        encodes: false,
        canonical: `[{"bn":"/0/0/","n":"0","vs":"${URI}"}]`,
      },
    ]);
  });

  describe('other shapes', () => {
    vectorSuite(SENML_JSON_FORMAT, [
      {
        name: "Anjay's Bootstrap-Pack example rooted at / (Bootstrap-Pack-Request)",
        path: '/',
        tree: root(
          obj(0, inst(2, res(0, 'string', URI), res(1, 'boolean', false), res(2, 'integer', 3), res(10, 'integer', 1))),
          obj(1, inst(1, res(0, 'integer', 1), res(1, 'integer', 60), res(6, 'boolean', false), res(7, 'string', 'U'))),
        ),
        text:
          `[{"bn":"/","n":"0/2/0","vs":"${URI}"},{"n":"0/2/1","vb":false},{"n":"0/2/2","v":3},` +
          '{"n":"0/2/10","v":1},{"n":"1/1/0","v":1},{"n":"1/1/1","v":60},{"n":"1/1/6","vb":false},{"n":"1/1/7","vs":"U"}]',
      },
      { name: 'a single resource: bn is its path, no n', path: '/3303/0/5700', tree: res(5700, 'float', 21.5), text: '[{"bn":"/3303/0/5700","v":21.5}]' },
      { name: 'a multiple resource', path: '/3/0/6', tree: multi(6, 'integer', { 0: 1, 1: 5 }), text: '[{"bn":"/3/0/6/","n":"0","v":1},{"n":"1","v":5}]' },
      { name: 'a resource instance', path: '/3/0/6/1', tree: rinst(1, 'integer', 5), text: '[{"bn":"/3/0/6/1","v":5}]' },
      { name: 'unsigned 2^64-1 stays exact', path: '/1000/0/6', tree: res(6, 'unsigned', 2n ** 64n - 1n), text: '[{"bn":"/1000/0/6","v":18446744073709551615}]' },
      { name: 'integer -2^63 stays exact', path: '/1000/0/5', tree: res(5, 'integer', -(2n ** 63n)), text: '[{"bn":"/1000/0/5","v":-9223372036854775808}]' },
      { name: 'unsigned 2^53+1 stays exact', path: '/1000/0/6', tree: res(6, 'unsigned', 2n ** 53n + 1n), text: '[{"bn":"/1000/0/6","v":9007199254740993}]' },
      { name: 'a tiny float', path: '/1000/0/7', tree: res(7, 'float', 6.667e-11), text: '[{"bn":"/1000/0/7","v":6.667e-11}]' },
      {
        name: 'vd padded, standard alphabet',
        path: '/1000/0/0',
        tree: res(0, 'opaque', hex('fbff')),
        text: '[{"bn":"/1000/0/0","vd":"+/8="}]',
        encodes: false,
        canonical: '[{"bn":"/1000/0/0","vd":"-_8"}]',
      },
      {
        name: 'time fields (bt, t) and unit are read and ignored',
        path: '/1/0',
        tree: inst(0, res(1, 'integer', 60)),
        text: '[{"bn":"/1/0/","bt":1700000000,"n":"1","t":5,"u":"s","v":60}]',
        encodes: false,
        canonical: '[{"bn":"/1/0/","n":"1","v":60}]',
      },
      {
        name: 'whitespace between tokens',
        path: '/1/0',
        tree: inst(0, res(1, 'integer', 60)),
        text: ' [ { "bn" : "/1/0/" , "n" : "1" , "v" : 60 } ] \n',
        encodes: false,
        canonical: '[{"bn":"/1/0/","n":"1","v":60}]',
      },
      {
        name: 'unknown resources typed by their value field',
        path: '/1000/0',
        tree: inst(
          0,
          res(90, 'integer', 3),
          res(91, 'float', 1.5),
          res(92, 'string', 'x'),
          res(93, 'boolean', true),
          res(94, 'opaque', hex('0102')),
          res(95, 'objlnk', { objectId: 3, instanceId: 0 }),
        ),
        text: '[{"bn":"/1000/0/","n":"90","v":3},{"n":"91","v":1.5},{"n":"92","vs":"x"},{"n":"93","vb":true},{"n":"94","vd":"AQI"},{"n":"95","vlo":"3:0"}]',
      },
    ]);
  });

  describe('malformed payloads', () => {
    const outside = '[{"bn":"/0/0/","n":"1","vb":false},{"bn":"/1/0/","n":"0","v":1}]';
    malformedSuite(SENML_JSON_FORMAT, [
      { name: 'invalid JSON', path: '/0/0', text: '[{"bn":', message: /invalid JSON/, offset: 7 },
      { name: 'data after the array', path: '/0/0', text: '[] x', message: /unexpected data after/, offset: 3 },
      { name: 'a top level that is not an array', path: '/0/0', text: '{}', message: /must be an array/, offset: 0 },
      { name: 'a record that is not an object', path: '/0/0', text: '[1]', message: /record 0 is not a JSON object/ },
      { name: 'a record without a name', path: '/0/0', text: '[{"v":1}]', message: /record 0 has no name/, offset: 1 },
      { name: 'a name that is not a path', path: '/0/0', text: '[{"n":"temp","v":1}]', message: /"temp" is not a resource path/, offset: 1 },
      { name: 'a name at instance level', path: '/0/0', text: '[{"n":"/0/0","v":1}]', message: /is not a resource path/ },
      { name: 'a base name that is no path prefix', path: '/0/0', text: '[{"bn":"urn:dev:","n":"1","v":1}]', message: /base name "urn:dev:" is not an LwM2M path prefix/, offset: 1 },
      { name: 'a doubled slash in a base name', path: '/0/0', text: '[{"bn":"/0/0//","n":"1","vb":true}]', message: /not an LwM2M path prefix/ },
      { name: 'a base name joined to a name without a separator', path: '/0/0', text: '[{"bn":"/0/0","n":"1","vb":true}]', message: /"\/0\/01" is not a resource path/ },
      { name: 'a repeated base name leading outside the request path', path: '/0/0', text: outside, message: /lies outside the request path/, offset: outside.indexOf('{"bn":"/1/0/'), errorPath: '/1/0/0' },
      { name: 'a record without a value', path: '/0/0', text: '[{"n":"/0/0/1"}]', message: /has no value/ , errorPath: '/0/0/1' },
      { name: 'a record with two values', path: '/0/0', text: '[{"n":"/0/0/1","vb":true,"v":1}]', message: /more than one value/ , errorPath: '/0/0/1' },
      { name: 'an unknown label', path: '/0/0', text: '[{"n":"/0/0/1","vb":true,"foo":1}]', message: /unknown SenML label "foo"/ },
      { name: 'a number for a boolean resource', path: '/0/0', text: '[{"n":"/0/0/1","v":1}]', message: /wrong value type for a boolean resource/, errorPath: '/0/0/1' },
      { name: 'a fraction for an integer resource', path: '/0/0', text: '[{"n":"/0/0/2","v":1.5}]', message: /not a whole number/, errorPath: '/0/0/2' },
      { name: 'vs for an opaque resource', path: '/0/0', text: '[{"n":"/0/0/3","vs":"dev1"}]', message: /wrong value type for a opaque resource/ , errorPath: '/0/0/3' },
      { name: 'vd that is not base64', path: '/0/0', text: '[{"n":"/0/0/3","vd":"***"}]', message: /"vd" must be base64/ },
      { name: 'a vlo that is not OID:IID', path: '/0/0', text: '[{"n":"/0/0/17","vlo":"21"}]', message: /not an object link/ , errorPath: '/0/0/17' },
      { name: '"n" that is not a string', path: '/0/0', text: '[{"n":5,"v":1}]', message: /"n" must be a string/ },
      { name: 'invalid UTF-8', path: '/0/0', hex: '5B 22 C3 28 22 5D', message: /invalid UTF-8/, offset: 2 },
      { name: 'a duplicate key in a record', path: '/0/0', text: '[{"n":"/0/0/1","n":"/0/0/2","vb":true}]', message: /duplicate key "n"/, offset: 15 },
      { name: 'the same resource twice', path: '/0/0', text: '[{"n":"/0/0/1","vb":true},{"n":"/0/0/1","vb":false}]', message: /twice/, errorPath: '/0/0/1', offset: 26 },
      { name: 'a single value for a multiple resource', path: '/3/0', text: '[{"n":"/3/0/6","v":1}]', message: /multiple-instance/, errorPath: '/3/0/6' },
      { name: 'nesting beyond 32 levels', path: '/0/0', text: '['.repeat(40) + ']'.repeat(40), message: /nesting deeper/ },
      { name: 'an empty payload', path: '/0/0', text: '', message: /unexpected end of JSON/, offset: 0 },
    ]);
  });

  describe('encoding', () => {
    it('refuses NaN, which JSON cannot carry', () => {
      assert.throws(
        () => encode(SENML_JSON_FORMAT, P('/1000/0/7'), res(7, 'float', NaN), testModel),
        (e: unknown) => assertCodecError(e, { format: SENML_JSON_FORMAT, message: /no JSON form/ }),
      );
    });
    it('keeps non-ASCII strings and escapes quotes', () => {
      const tree = res(12, 'string', 'Zürich "Ost" 🚀');
      const out = encode(SENML_JSON_FORMAT, P('/1000/0/12'), tree, testModel);
      assert.equal(out.toString('utf8'), '[{"bn":"/1000/0/12","vs":"Zürich \\"Ost\\" 🚀"}]');
      assert.deepStrictEqual(decode(SENML_JSON_FORMAT, P('/1000/0/12'), out, testModel), tree);
    });
  });
});

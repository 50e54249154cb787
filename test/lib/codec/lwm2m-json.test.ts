/** LwM2M JSON (11543, legacy 1543) against OMA-TS-LightweightM2M_Core 1.0, Data Formats: JSON, including Leshan's "sv" forms. */
import assert from 'node:assert/strict';
import { decode, LWM2M_JSON_FORMAT } from '../../../lib/codec';
import { hex, inst, malformedSuite, multi, obj, P, res, root, testModel, vectorSuite } from './support';

const URI = 'coap://127.0.0.1:5683';

describe('codec: LwM2M JSON (11543)', () => {
  vectorSuite(LWM2M_JSON_FORMAT, [
    {
      name: 'Security /0/0',
      path: '/0/0',
      tree: inst(0, res(0, 'string', URI), res(1, 'boolean', false), res(2, 'integer', 3), res(10, 'integer', 1)),
      text: `{"bn":"/0/0/","e":[{"n":"0","sv":"${URI}"},{"n":"1","bv":false},{"n":"2","v":3},{"n":"10","v":1}]}`,
    },
    {
      name: 'the spec shape {"bn":"/","e":[{"n":"65/0/0/0","ov":"66:0"}]}',
      path: '/',
      tree: root(obj(65, inst(0, multi(0, 'objlnk', { 0: { objectId: 66, instanceId: 0 } })))),
      text: '{"bn":"/","e":[{"n":"65/0/0/0","ov":"66:0"}]}',
    },
    {
      name: "Leshan's forms: opaque as standard base64 and objlnk in sv",
      path: '/0/1',
      tree: inst(1, res(3, 'opaque', Buffer.from('dev1')), res(5, 'opaque', hex('fbff')), res(17, 'objlnk', { objectId: 21, instanceId: 0 })),
      text: '{"bn":"/0/1/","e":[{"n":"3","sv":"ZGV2MQ=="},{"n":"5","sv":"+/8="},{"n":"17","sv":"21:0"}]}',
      encodes: false,
      canonical: '{"bn":"/0/1/","e":[{"n":"3","sv":"ZGV2MQ=="},{"n":"5","sv":"+/8="},{"n":"17","ov":"21:0"}]}',
    },
    { name: 'a single resource named relative to its instance', path: '/1/0/1', tree: res(1, 'integer', 86400), text: '{"bn":"/1/0/","e":[{"n":"1","v":86400}]}' },
    { name: 'a multiple resource', path: '/3/0/6', tree: multi(6, 'integer', { 0: 1, 1: 5 }), text: '{"bn":"/3/0/6/","e":[{"n":"0","v":1},{"n":"1","v":5}]}' },
    {
      name: 'entries with times, bt at the top',
      path: '/1/0',
      tree: inst(0, res(1, 'integer', 60)),
      text: '{"bn":"/1/0/","bt":1700000000,"e":[{"n":"1","v":60,"t":-5}]}',
      encodes: false,
      canonical: '{"bn":"/1/0/","e":[{"n":"1","v":60}]}',
    },
  ]);

  it('reads the legacy Content-Format 1543 like 11543', () => {
    const n = decode(1543, P('/1/0/1'), Buffer.from('{"bn":"/1/0/","e":[{"n":"1","v":5}]}'), testModel);
    assert.deepStrictEqual(n, res(1, 'integer', 5));
  });

  describe('malformed payloads', () => {
    malformedSuite(LWM2M_JSON_FORMAT, [
      { name: 'an array at the top level', path: '/1/0', text: '[]', message: /must be an object/, offset: 0 },
      { name: 'no "e"', path: '/1/0', text: '{"bn":"/1/0/"}', message: /"e" must be an array/ },
      { name: 'an unknown top-level label', path: '/1/0', text: '{"bn":"/1/0/","e":[],"x":1}', message: /unknown LwM2M JSON label "x"/ },
      { name: 'an unknown entry label', path: '/1/0', text: '{"bn":"/1/0/","e":[{"n":"1","vv":1}]}', message: /unknown LwM2M JSON label "vv"/, offset: 19 },
      { name: 'an entry without a value', path: '/1/0', text: '{"bn":"/1/0/","e":[{"n":"1"}]}', message: /has no value/, errorPath: '/1/0/1' },
      { name: 'sv that is not base64 for an opaque resource', path: '/0/1', text: '{"bn":"/0/1/","e":[{"n":"3","sv":"***"}]}', message: /must be base64/, errorPath: '/0/1/3' },
      { name: 'a boolean for an integer resource', path: '/1/0', text: '{"bn":"/1/0/","e":[{"n":"1","bv":true}]}', message: /wrong value type/, errorPath: '/1/0/1' },
      { name: 'invalid JSON', path: '/1/0', text: '{"bn":"/1/0/",', message: /invalid JSON/, offset: 14 },
    ]);
  });
});

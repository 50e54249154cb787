import assert from 'node:assert/strict';
import {
  defaultModel,
  instanceFromJson,
  isSecretResource,
  nodeFromJson,
  nodeToJson,
  resourceFromJson,
  rootFromJson,
  valueFromJson,
  valueToJson,
  ValueError,
} from '../../../lib/model';
import type { MultipleResource, ObjectInstanceNode, ResourceType, RootNode, SingleResource } from '../../../lib/model';

function single(inst: ObjectInstanceNode, rid: number): SingleResource {
  const r = inst.resources.get(rid);
  assert.ok(r && r.kind === 'single', `resource ${rid} single`);
  return r;
}

/** Asserts `fn` throws a ValueError at `path` whose message matches `re`. */
function throwsAt(fn: () => unknown, path: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValueError, `expected ValueError, got ${String(e)}`);
    assert.equal(e.path, path);
    assert.match(e.message, re);
    return true;
  });
}

describe('model: values from JSON', () => {
  const cases: [ResourceType, unknown, unknown][] = [
    ['string', 'coap://x', 'coap://x'],
    ['integer', -5, -5],
    ['integer', '9223372036854775807', 9223372036854775807n],
    ['integer', '42', 42],
    ['unsigned', '18446744073709551615', 18446744073709551615n],
    ['float', 1.5, 1.5],
    ['boolean', false, false],
    ['time', 1700000000, 1700000000],
    ['time', '2026-01-01T00:00:00Z', 1767225600],
    ['opaque', 'dev-1', Buffer.from('dev-1')],
    ['opaque', { hex: '0a:1B 2c' }, Buffer.from([0x0a, 0x1b, 0x2c])],
    ['opaque', { base64: 'AQID' }, Buffer.from([1, 2, 3])],
    ['objlnk', '11:0', { objectId: 11, instanceId: 0 }],
    ['objlnk', { objectId: 65535, instanceId: 65535 }, { objectId: 65535, instanceId: 65535 }],
  ];
  for (const [type, json, want] of cases) {
    it(`${type} ${JSON.stringify(json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`, () => {
      assert.deepEqual(valueFromJson(type, json, '/x'), want);
    });
  }

  const bad: [ResourceType, unknown, RegExp][] = [
    ['string', 5, /expected a text, got number 5/],
    ['integer', 1.5, /expected a whole number/],
    ['integer', '9223372036854775808', /signed 64-bit/],
    ['unsigned', -1, /unsigned 64-bit/],
    ['float', Infinity, /expected a number/],
    ['boolean', 'true', /expected true or false/],
    ['opaque', { hex: 'abc' }, /pairs of hex digits/],
    ['opaque', 12, /expected bytes/],
    ['objlnk', '11-0', /object link "OID:IID"/],
    ['objlnk', '70000:0', /object link/],
    ['time', 'yesterday', /whole seconds since 1970/],
    ['none', 1, /executable/],
  ];
  for (const [type, json, re] of bad) {
    it(`rejects ${type} ${JSON.stringify(json) ?? String(json)}`, () => throwsAt(() => valueFromJson(type, json, '/9/0/1'), '/9/0/1', re));
  }

  it('checks a numeric range enumeration of the definition', () => {
    throwsAt(() => resourceFromJson(0, 1, 2, 7, defaultModel), '/0/1/2', /outside the allowed range 0..4 of "Security Mode"/);
    assert.equal((resourceFromJson(0, 1, 2, 4, defaultModel) as SingleResource).value, 4);
  });

  it('prints values back to JSON that read the same', () => {
    const pairs: [ResourceType, unknown][] = [
      ['opaque', Buffer.from('identity')],
      ['opaque', Buffer.from([0, 0xff, 0x10])],
      ['opaque', Buffer.alloc(0)],
      ['objlnk', { objectId: 21, instanceId: 3 }],
      ['integer', 2n ** 62n],
      ['time', 5],
    ];
    for (const [type, v] of pairs) {
      const json = valueToJson(type, v as never);
      assert.deepEqual(valueFromJson(type, JSON.parse(JSON.stringify(json)), '/x'), v);
    }
    assert.deepEqual(valueToJson('opaque', Buffer.from([0, 0xff])), { hex: '00ff' });
    assert.equal(valueToJson('opaque', Buffer.from('abc')), 'abc');
  });
});

describe('model: instance trees from JSON', () => {
  it('builds a Security instance with typed values', () => {
    const inst = instanceFromJson(
      0,
      1,
      { '0': 'coaps://dm.example.com:5684', '1': false, '2': 0, '3': 'dev-1', '5': { hex: '000102' }, '10': 1, '16': [49320, 174] },
      defaultModel,
    );
    assert.equal(inst.id, 1);
    assert.deepEqual([...inst.resources.keys()], [0, 1, 2, 3, 5, 10, 16]);
    assert.equal(single(inst, 0).type, 'string');
    assert.deepEqual(single(inst, 3).value, Buffer.from('dev-1'));
    assert.deepEqual(single(inst, 5).value, Buffer.from([0, 1, 2]));
    const cs = inst.resources.get(16) as MultipleResource;
    assert.equal(cs.kind, 'multiple');
    assert.equal(cs.type, 'unsigned');
    assert.deepEqual([...cs.instances], [[0, 49320], [1, 174]]);
  });

  it('takes multiple-instance resources as a map or as a list with holes', () => {
    const a = resourceFromJson(2, 0, 2, { '0': 1, '101': 31 }, defaultModel) as MultipleResource;
    assert.deepEqual([...a.instances], [[0, 1], [101, 31]]);
    const b = resourceFromJson(2, 0, 2, [null, 15], defaultModel) as MultipleResource;
    assert.deepEqual([...b.instances], [[1, 15]]);
  });

  it('names the path of a wrong type, an unknown resource, an unknown object and a bad key', () => {
    throwsAt(() => instanceFromJson(1, 0, { '1': 'soon' }, defaultModel), '/1/0/1', /expected a whole number/);
    throwsAt(() => instanceFromJson(1, 0, { '99': 1 }, defaultModel), '/1/0/99', /has no resource 99/);
    throwsAt(() => instanceFromJson(4242, 0, { '0': 1 }, defaultModel), '/4242/0/0', /not in the object model/);
    throwsAt(() => instanceFromJson(1, 0, { lifetime: 1 }, defaultModel), '/1/0', /"lifetime" is not a resource id/);
    throwsAt(() => resourceFromJson(2, 0, 2, 5, defaultModel), '/2/0/2', /multiple instances/);
    throwsAt(() => resourceFromJson(2, 0, 2, [1, 'x'], defaultModel), '/2/0/2/1', /expected a whole number/);
    throwsAt(() => resourceFromJson(1, 0, 1, [1], defaultModel), '/1/0/1', /single value, not a list/);
    throwsAt(() => nodeFromJson('/1/0/1/0', 1, defaultModel), '/1/0/1/0', /single resource/);
  });

  it('round-trips a whole tree through JSON', () => {
    const json = {
      '0': { '1': { '0': 'coap://h', '1': false, '2': 3, '3': '', '4': '', '5': '', '10': 7 } },
      '1': { '0': { '0': 7, '1': 300, '6': false, '7': 'U', '10': '11:0' } },
      '11': { '0': { '0': 'p', '1': 'internet.m2m', '4': 3, '8': { '0': '262,01' } } },
    };
    const root = rootFromJson(json, defaultModel);
    assert.deepEqual([...root.objects.keys()], [0, 1, 11]);
    assert.deepEqual(nodeToJson(root), json);
    assert.deepEqual(nodeToJson(nodeFromJson('/', json, defaultModel)), json);
    assert.deepEqual(nodeFromJson('/1/0/10', '11:0', defaultModel), { kind: 'single', id: 10, type: 'objlnk', value: { objectId: 11, instanceId: 0 } });
  });
});

describe('model: masking secrets', () => {
  const root: RootNode = rootFromJson(
    {
      '0': { '1': { '0': 'coaps://h', '1': false, '2': 0, '3': 'dev-1', '4': '', '5': { hex: 'c0ffee' }, '10': 1 } },
      '11': { '0': { '0': 'p', '4': 0, '5': 'user', '6': 'pw' } },
      '21': { '0': { '0': { hex: '0102' }, '1': 'a', '2': 'b' } },
    },
    defaultModel,
  );

  it('masks the PSK/private key, APN secret and OSCORE master secret, and nothing else', () => {
    const j = nodeToJson(root, { maskSecrets: true }) as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(j['0']['1']['5'], '***');
    assert.equal(j['0']['1']['3'], 'dev-1');
    assert.equal(j['11']['0']['6'], '***');
    assert.equal(j['11']['0']['5'], 'user');
    assert.equal(j['21']['0']['0'], '***');
    assert.equal(j['21']['0']['1'], 'a');
    assert.doesNotMatch(JSON.stringify(j), /c0ffee|pw/);
    assert.equal((nodeToJson(root) as Record<string, Record<string, Record<string, unknown>>>)['0']['1']['5'] !== '***', true);
  });

  it('masks an instance by its path, and every opaque value when the path is unknown', () => {
    const inst = root.objects.get(0)!.instances.get(1)!;
    const byPath = nodeToJson(inst, { maskSecrets: true, path: '/0/1' }) as Record<string, unknown>;
    assert.equal(byPath['5'], '***');
    assert.equal(byPath['3'], 'dev-1');
    const blind = nodeToJson(inst, { maskSecrets: true }) as Record<string, unknown>;
    assert.equal(blind['5'], '***');
    assert.equal(blind['3'], '***');
    assert.equal(blind['0'], 'coaps://h');
    assert.equal(isSecretResource(0, 5), true);
    assert.equal(isSecretResource(0, 3), false);
  });
});

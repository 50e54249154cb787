import assert from 'node:assert/strict';
import { bootstrapDiscoverInfo, decode, encode } from '../../../lib/codec';
import { LwM2mPath, nodeToJson } from '../../../lib/model';
import type { RootNode } from '../../../lib/model';
import {
  applyTemplate,
  buildBootstrapPack,
  contentFormatFor,
  planBootstrap,
  ProfileError,
  versionAtLeast,
  wantsDiscovery,
} from '../../../lib/profile';
import type { BootstrapProfile, DiscoverInfo, ValidatedProfile } from '../../../lib/profile';
import type { BootstrapDownlinkRequest } from '../../../lib/bootstrap/requests';
import { meters } from './fixtures';

/** "DELETE /0", "PUT /0/1", "GET /" … for comparing plans at a glance. */
function summary(plan: readonly BootstrapDownlinkRequest[]): string[] {
  return plan.map((r) => `${r.method} ${r.type === 'BootstrapFinishRequest' ? '/bs' : r.path.toString()}`);
}

function write(plan: readonly BootstrapDownlinkRequest[], path: string): Record<string, unknown> {
  const w = plan.find((r) => r.type === 'BootstrapWriteRequest' && r.path.toString() === path);
  assert.ok(w && w.type === 'BootstrapWriteRequest', `a write of ${path}`);
  return nodeToJson(w.node, { path }) as Record<string, unknown>;
}

const resolved = (p: BootstrapProfile = meters()) => applyTemplate(p, { endpoint: 'dev-1' });

const twoServers = (): BootstrapProfile => ({
  ...meters(),
  servers: [
    { shortServerId: 101, uri: 'coaps://a.example.com', securityMode: 'psk', pskIdentity: 'dev-1', pskKey: { hex: '00112233445566778899aabbccddeeff' } },
    { shortServerId: 102, uri: 'coap://b.example.com', securityMode: 'nosec' },
  ],
});

describe('profile: planBootstrap', () => {
  it('without Discover: deletes, then complete Security and Server instances, the BS account assumed at /0/0', () => {
    const plan = planBootstrap(resolved(), { contentFormat: 11542 });
    assert.deepEqual(summary(plan), ['DELETE /0', 'DELETE /1', 'PUT /0/1', 'PUT /1/0']);
    assert.deepEqual(write(plan, '/0/1'), {
      '0': 'coaps://dm.example.com:5684',
      '1': false,
      '2': 0,
      '3': 'dev-1',
      '4': '',
      '5': { hex: '000102030405060708090a0b0c0d0e0f' },
      '10': 1,
    });
    assert.deepEqual(write(plan, '/1/0'), { '0': 1, '1': 600, '6': true, '7': 'U' });
    for (const r of plan) if (r.type === 'BootstrapWriteRequest') assert.equal(r.contentFormat, 11542);
  });

  it('auto-ID from a real Discover answer: the BS account at /0/1 is never written, kept accounts are replaced by SSID', () => {
    // Anjay-style answer (Bootstrap-Discover): BS account /0/1, server 11 at /0/2 + /1/42, Device /3/0.
    const discovered: DiscoverInfo = bootstrapDiscoverInfo(
      '</>;lwm2m=1.1,</0>,</0/1>;uri="coap://127.0.0.1:5685",</0/2>;ssid=11;uri="coap://127.0.0.1:9999",</1>,</1/42>;ssid=11,</2>,</3>,</3/0>',
    );
    assert.equal(discovered.bootstrapAccountInstanceId, 1);
    const two = twoServers();
    two.servers![1].shortServerId = 11; // the device already has SSID 11 and nothing is deleted
    const p = resolved({ ...two, delete: [] });
    const plan = planBootstrap(p, { contentFormat: 112, discovered });
    assert.deepEqual(summary(plan), ['PUT /0/0', 'PUT /0/2', 'PUT /1/0', 'PUT /1/42']);
  });

  it('auto-ID with the default deletes: the deleted ids are free again, the BS account id is not', () => {
    const discovered = bootstrapDiscoverInfo('</>;lwm2m=1.1,</0/0>;ssid=1,</0/1>,</1/0>;ssid=1,</3/0>');
    const plan = planBootstrap(resolved(twoServers()), { contentFormat: 110, discovered });
    assert.deepEqual(summary(plan), ['DELETE /0', 'DELETE /1', 'PUT /0/0', 'PUT /0/2', 'PUT /1/0', 'PUT /1/1']);
  });

  it('leaves out a delete of the Bootstrap-Server account instance, and refuses a pin onto it', () => {
    const discovered = bootstrapDiscoverInfo('</>;lwm2m=1.1,</0/3>,</0/4>;ssid=1');
    const plan = planBootstrap(resolved({ ...meters(), delete: ['/0/3', '/0/4'] }), { contentFormat: 11542, discovered });
    assert.deepEqual(summary(plan), ['DELETE /0/4', 'PUT /0/0', 'PUT /1/0']);
    const m = meters();
    m.servers![0].securityInstanceId = 3;
    const pinned = resolved(m);
    assert.throws(
      () => planBootstrap(pinned, { contentFormat: 11542, discovered }),
      (e: unknown) => e instanceof ProfileError && e.issues[0].pointer === '/servers/0/securityInstanceId' && /Bootstrap-Server account/.test(e.message),
    );
  });

  it('orders Security, BS rewrite, Server, ACL, other objects by id (Device resource by resource), discover, reads', () => {
    const p = resolved({
      ...twoServers(),
      delete: ['/'],
      bootstrapServer: { uri: 'coaps://bs.example.com', securityMode: 'psk', pskIdentity: 'bs-1', pskKey: { hex: 'ffeeddccbbaa99887766554433221100' }, accountTimeout: 0 },
      acl: [{ objectId: 3, objectInstanceId: 0, rights: { '101': 'RWE', '0': 'R' }, owner: 101 }],
      objects: {
        '21': [{ resources: { '0': { hex: '0102' }, '1': 'c', '2': 's' } }],
        '3': [{ resources: { '13': 1700000000, '15': 'Europe/Berlin' } }],
        '11': [{ instanceId: 4, resources: { '0': 'p', '4': 3 } }],
      },
      discover: true,
      read: ['/1', '/2/0'],
    });
    const plan = planBootstrap(p, { contentFormat: 112, lwm2mVersion: '1.1' });
    assert.deepEqual(summary(plan), [
      'DELETE /',
      'PUT /0/1',
      'PUT /0/2',
      'PUT /0/0',
      'PUT /1/0',
      'PUT /1/1',
      'PUT /2/0',
      'PUT /3/0/13',
      'PUT /3/0/15',
      'PUT /11/4',
      'PUT /21/0',
      'GET /',
      'GET /1',
      'GET /2/0',
    ]);
    assert.deepEqual(write(plan, '/0/0'), { '0': 'coaps://bs.example.com', '1': true, '2': 0, '3': 'bs-1', '4': '', '5': { hex: 'ffeeddccbbaa99887766554433221100' }, '12': 0 });
    assert.deepEqual(write(plan, '/2/0'), { '0': 3, '1': 0, '2': { '0': 1, '101': 7 }, '3': 101 });
    const reads = plan.filter((r) => r.type === 'BootstrapReadRequest');
    assert.deepEqual(reads.map((r) => r.type === 'BootstrapReadRequest' && r.accept), [112, 112]);
  });

  it('sends Bootstrap-Read only to LwM2M 1.1+ clients', () => {
    const p = resolved({ ...meters(), read: ['/1'] });
    assert.equal(planBootstrap(p, { contentFormat: 11542, lwm2mVersion: '1.0' }).some((r) => r.type === 'BootstrapReadRequest'), false);
    assert.equal(planBootstrap(p, { contentFormat: 11542 }).some((r) => r.type === 'BootstrapReadRequest'), false);
    const discovered = bootstrapDiscoverInfo('</>;lwm2m=1.2,</0/0>');
    assert.equal(planBootstrap(p, { contentFormat: 11542, discovered }).some((r) => r.type === 'BootstrapReadRequest'), true);
    assert.equal(versionAtLeast('1.1.1', '1.1'), true);
    assert.equal(versionAtLeast('1.0.2', '1.1'), false);
    assert.equal(versionAtLeast('x', '1.1'), false);
  });

  it('every planned write encodes with the real codecs and decodes back to the same tree', () => {
    const two = twoServers();
    two.servers![0].ciphersuites = [49320, 174];
    const p = resolved({
      ...two,
      acl: [{ objectId: 3, objectInstanceId: 0, rights: { '101': 31 } }],
      objects: { '11': [{ resources: { '0': 'p', '1': 'apn', '4': 3, '8': ['262,01'] } }], '3': [{ resources: { '14': '+02:00' } }] },
    });
    for (const cf of [11542, 110, 112, 11544]) {
      for (const r of planBootstrap(p, { contentFormat: cf })) {
        if (r.type !== 'BootstrapWriteRequest') continue;
        const bytes = encode(cf, r.path, r.node);
        assert.ok(bytes.length > 0);
        assert.deepEqual(nodeToJson(decode(cf, r.path, bytes)), nodeToJson(r.node), `${cf} ${r.path.toString()}`);
      }
    }
  });

  it('a deep-frozen Discover answer gets the plan an equal unfrozen one gets, and a changed answer its own', () => {
    const p = resolved(twoServers());
    const text = '</>;lwm2m=1.1,</0/0>;ssid=1,</0/1>,</1/0>;ssid=1,</3/0>';
    const freeze = <T>(v: T): T => {
      if (v && typeof v === 'object') {
        for (const x of Object.values(v)) freeze(x);
        Object.freeze(v);
      }
      return v;
    };
    const frozen = freeze(bootstrapDiscoverInfo(text));
    const plain = () => planBootstrap(p, { contentFormat: 110, discovered: bootstrapDiscoverInfo(text) });
    const expected = summary(plain());
    // Several rounds: the plan is remembered from the profile's second plan on, then found by the answer's identity.
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(summary(planBootstrap(p, { contentFormat: 110, discovered: frozen })), expected);
      assert.deepEqual(summary(plain()), expected);
    }
    assert.equal(planBootstrap(p, { contentFormat: 110, discovered: frozen }), planBootstrap(p, { contentFormat: 110, discovered: frozen }));
    // Another format and another version are other plans, not the one remembered for the same answer.
    const tlv = planBootstrap(p, { contentFormat: 11542, discovered: frozen });
    for (const r of tlv) if (r.type === 'BootstrapWriteRequest') assert.equal(r.contentFormat, 11542);
    // The BS account elsewhere: another answer, another layout.
    const moved = freeze(bootstrapDiscoverInfo('</>;lwm2m=1.1,</0/2>,</3/0>'));
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(summary(planBootstrap(p, { contentFormat: 110, discovered: moved })), ['DELETE /0', 'DELETE /1', 'PUT /0/0', 'PUT /0/1', 'PUT /1/0', 'PUT /1/1']);
    }
  });

  it('refuses a profile with placeholders left, or an invalid one', () => {
    // A JavaScript caller (or a cast) can still hand an unchecked profile: it is checked there, once.
    assert.throws(() => planBootstrap(meters() as ValidatedProfile, { contentFormat: 11542 }), (e: unknown) => e instanceof ProfileError && e.issues[0].pointer === '/servers/0/pskIdentity');
    assert.throws(() => planBootstrap({ servers: [{ shortServerId: 0 }] } as unknown as ValidatedProfile, { contentFormat: 11542 }), ProfileError);
  });
});

describe('profile: contentFormatFor and wantsDiscovery', () => {
  it('uses the profile override, else the client pct, else TLV', () => {
    assert.equal(contentFormatFor({ contentFormat: 'senml-json' }), 110);
    assert.equal(contentFormatFor({ contentFormat: 11544 }, 112), 11544);
    assert.equal(contentFormatFor({ contentFormat: 'auto' }, 112), 112);
    assert.equal(contentFormatFor({}, 110), 110);
    assert.equal(contentFormatFor({}, 1542), 11542);
    assert.equal(contentFormatFor({}, 0), 11542);
    assert.equal(contentFormatFor({}), 11542);
  });

  it('discovers by default, not with autoId false', () => {
    assert.equal(wantsDiscovery({}), true);
    assert.equal(wantsDiscovery({ autoId: false }), false);
  });
});

describe('profile: buildBootstrapPack', () => {
  it('holds the whole configuration as one tree, without the BS account, encodable as SenML CBOR', () => {
    const p = resolved({
      ...twoServers(),
      objects: { '3': [{ resources: { '14': '+02:00' } }], '11': [{ instanceId: 2, resources: { '0': 'p', '4': 3 } }] },
    });
    const pack: RootNode = buildBootstrapPack(p);
    const json = nodeToJson(pack, { maskSecrets: true }) as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepEqual(Object.keys(json), ['0', '1', '3', '11']);
    assert.deepEqual(Object.keys(json['0']), ['1', '2']);
    assert.equal(json['0']['1']['5'], '***');
    assert.equal(json['0']['1']['1'], false);
    assert.deepEqual(json['3'], { '0': { '14': '+02:00' } });
    assert.deepEqual(json['1']['1'], { '0': 102, '1': 300, '6': true, '7': 'U' });
    const bytes = encode(112, LwM2mPath.root(), pack);
    assert.deepEqual(nodeToJson(decode(112, LwM2mPath.root(), bytes)), nodeToJson(pack));
  });

  it('keeps clear of a pinned Bootstrap-Server account instance', () => {
    const pack = buildBootstrapPack(resolved({ ...meters(), bootstrapAccountInstanceId: 0 }));
    assert.deepEqual([...pack.objects.get(0)!.instances.keys()], [1]);
    const moved = buildBootstrapPack(resolved({ ...meters(), bootstrapAccountInstanceId: 1 }));
    assert.deepEqual([...moved.objects.get(0)!.instances.keys()], [0]);
  });
});

import assert from 'node:assert/strict';
import { BootstrapRefusedError } from '../../../lib/client/errors';
import { checkConsistency } from '../../../lib/client/consistency';
import { bootstrapDiscoverLinks, registerLinks } from '../../../lib/client/links';
import { storeFromSimple, type SimpleStore } from '../../../lib/client/serialize';
import { LwM2mPath } from '../../../lib/model/path';
import { defaultModel } from '../../../lib/model/registry';
import { bootstrapDelay, DEFAULT_TIMING } from '../../../lib/client/timing';

const bsAccount = { '0': 'coap://bs:5683', '1': true, '2': 3, '3': { opaque: '' }, '4': { opaque: '' }, '5': { opaque: '' }, '17': { objlnk: '21:4' } };
const secAccount = (ssid: number, uri = 'coap://srv:5683') => ({ '0': uri, '1': false, '2': 3, '3': { opaque: '' }, '4': { opaque: '' }, '5': { opaque: '' }, '10': ssid });
const srv = (ssid: number) => ({ '0': ssid, '1': 60, '6': false, '7': 'U' });
const good = (): SimpleStore => ({
  '0': { '2': bsAccount, '0': secAccount(1) },
  '1': { '0': srv(1) },
  '3': { '0': { '16': 'U' } },
  '21': { '4': { '0': { opaque: '01' }, '1': { opaque: '02' }, '2': { opaque: '03' } }, '5': { '0': { opaque: '01' }, '1': { opaque: '02' }, '2': { opaque: '03' } } },
});

describe('ObjectStore bootstrap semantics', () => {
  it('DELETE / keeps the BS account, the OSCORE instance it links to, and /3/0', () => {
    const s = storeFromSimple(good(), defaultModel);
    s.bootstrapDelete(LwM2mPath.root());
    assert.deepEqual(s.instances(0).map((i) => i.id), [2]);
    assert.deepEqual(s.instances(1).map((i) => i.id), []);
    assert.deepEqual(s.instances(21).map((i) => i.id), [4]);
    assert.deepEqual(s.instances(3).map((i) => i.id), [0]);
  });

  it('DELETE /0 keeps the BS account; deleting a Security instance takes its Server instance along', () => {
    const s = storeFromSimple(good(), defaultModel);
    s.bootstrapDelete(LwM2mPath.parse('/0/0'));
    assert.equal(s.instance(1, 0), undefined, 'unbootstrapped');
    s.bootstrapDelete(LwM2mPath.parse('/0'));
    assert.deepEqual(s.instances(0).map((i) => i.id), [2]);
  });

  it('deleting the BS account or /3/0 is refused with 4.00; resources cannot be deleted', () => {
    const s = storeFromSimple(good(), defaultModel);
    for (const p of ['/0/2', '/3/0', '/1/0/1']) {
      assert.throws(() => s.bootstrapDelete(LwM2mPath.parse(p)), (e: unknown) => e instanceof BootstrapRefusedError && e.coapCode === '4.00');
    }
    s.bootstrapDelete(LwM2mPath.parse('/1/9')); // missing instance: idempotent
  });

  it('Bootstrap-Write creates instances, merges resources and ignores resources the model does not define', () => {
    const s = storeFromSimple(good(), defaultModel);
    const node = storeFromSimple({ '1': { '5': { '0': 9, '1': 30, '6': true, '7': 'U', '999': 'x' } } }, defaultModel).read(LwM2mPath.parse('/1/5'));
    assert.ok(node);
    s.bootstrapWrite(LwM2mPath.parse('/1/5'), node);
    assert.equal(s.value(1, 5, 0), 9);
    assert.equal(s.instance(1, 5)?.resources.has(999), false);
    const lt = storeFromSimple({ '1': { '0': { '1': 120 } } }, defaultModel).read(LwM2mPath.parse('/1/0/1'));
    assert.ok(lt);
    s.bootstrapWrite(LwM2mPath.parse('/1/0/1'), lt);
    assert.equal(s.value(1, 0, 1), 120);
    assert.equal(s.value(1, 0, 7), 'U', 'other resources kept (merge)');
  });

  it('a write that would make a second BS account is refused and leaves the store as it was', () => {
    const s = storeFromSimple(good(), defaultModel);
    const node = storeFromSimple({ '0': { '7': bsAccount } }, defaultModel).read(LwM2mPath.parse('/0/7'));
    assert.ok(node);
    assert.throws(() => s.bootstrapWrite(LwM2mPath.parse('/0/7'), node), /second Bootstrap-Server account/);
    assert.equal(s.instance(0, 7), undefined);
    assert.deepEqual(s.bootstrapAccountIds(), [2]);
  });

  it('a write to an object the device does not implement is 4.04', () => {
    const s = storeFromSimple(good(), defaultModel, [0, 1, 3]);
    const node = storeFromSimple({ '11': { '0': { '0': 'apn' } } }, defaultModel).read(LwM2mPath.parse('/11/0'));
    assert.ok(node);
    assert.throws(() => s.bootstrapWrite(LwM2mPath.parse('/11/0'), node), (e: unknown) => e instanceof BootstrapRefusedError && e.coapCode === '4.04');
  });

  it('clone() is deep: changing the staged copy leaves the original alone', () => {
    const s = storeFromSimple(good(), defaultModel);
    const c = s.clone();
    c.setValue(1, 0, 1, 999);
    (c.value(0, 2, 3) as Buffer).fill(1);
    c.bootstrapDelete(LwM2mPath.root());
    assert.equal(s.value(1, 0, 1), 60);
    assert.equal(s.instances(1).length, 1);
  });
});

describe('consistency checks (Bootstrap-Finish)', () => {
  const rules = (simple: SimpleStore, opts = {}) => checkConsistency(storeFromSimple(simple, defaultModel), opts).map((i) => `${i.rule} ${i.path}`);

  it('a complete configuration passes', () => {
    assert.deepEqual(rules(good()), []);
  });
  it('C1: no BS account, or two', () => {
    const g = good();
    delete g['0']['2'];
    assert.deepEqual(rules(g).filter((r) => r.startsWith('C1')), ['C1 /0']);
    assert.deepEqual(rules(g, { requireBootstrapAccount: false }), []);
    const two = good();
    two['0']['3'] = bsAccount;
    assert.ok(rules(two).includes('C1 /0'));
  });
  it('C2/C4: a Security instance without Server instance, and the reverse', () => {
    const g = good();
    delete g['1'];
    assert.deepEqual(rules(g), ['C4 /0/0/10']);
    const h = good();
    h['1']['1'] = srv(5);
    assert.deepEqual(rules(h), ['C4 /1/1/0']);
    const none = good();
    delete none['1'];
    delete none['0']['0'];
    assert.deepEqual(rules(none), ['C2 /0']);
  });
  it('C3: missing or duplicate SSID', () => {
    const g = good();
    g['0']['5'] = secAccount(1);
    assert.ok(rules(g).includes('C3 /0/5/10'));
  });
  it('C5: mandatory resources', () => {
    const g = good();
    delete (g['1']['0'] as Record<string, unknown>)['7'];
    assert.deepEqual(rules(g), ['C5 /1/0/7']);
  });
  it('C6: URI scheme must fit the security mode; PSK needs identity and key; binding must be supported', () => {
    const g = good();
    g['0']['0'] = secAccount(1, 'coaps://srv:5684');
    assert.deepEqual(rules(g), ['C6 /0/0/0']);
    const psk = good();
    psk['0']['0'] = { ...secAccount(1, 'coaps://srv:5684'), '2': 0 };
    assert.deepEqual(rules(psk), ['C6 /0/0/3', 'C6 /0/0/5']);
    const b = good();
    b['1']['0'] = { ...srv(1), '7': 'T' };
    assert.deepEqual(rules(b), ['C6 /1/0/7']);
  });
  it('C7: /3/0 with resource 16', () => {
    const g = good();
    g['3']['0'] = { '0': 'maker' };
    assert.deepEqual(rules(g), ['C7 /3/0/16']);
  });
  it('C9: an OSCORE link must name an existing /21 instance', () => {
    const g = good();
    g['0']['0'] = { ...secAccount(1), '17': { objlnk: '21:9' } };
    assert.deepEqual(rules(g), ['C9 /0/0/17']);
  });
});

describe('link-format the device produces', () => {
  it('Discover: 1.1 header, ssid on server accounts, uri on every Security instance, ver on non-1.0 objects', () => {
    const s = storeFromSimple(good(), defaultModel, [0, 1, 3, 21]);
    const text = bootstrapDiscoverLinks(s, '1.1');
    assert.equal(
      text,
      '</>;lwm2m=1.1,</0>;ver=1.2,</0/0>;ssid=1;uri="coap://srv:5683",</0/2>;uri="coap://bs:5683",</1>;ver=1.2,</1/0>;ssid=1,</3>;ver=1.2,</3/0>,</21>;ver=2.0,</21/4>,</21/5>',
    );
  });
  it('Discover: 1.0 header without uri and ver', () => {
    const s = storeFromSimple(good(), defaultModel, [0, 1, 3]);
    assert.equal(bootstrapDiscoverLinks(s, '1.0', 0), 'lwm2m="1.0",</0/0>;ssid=1,</0/2>');
  });
  it('Register payload never shows Security or OSCORE', () => {
    const s = storeFromSimple(good(), defaultModel, [0, 1, 3, 5, 21]);
    assert.equal(registerLinks(s, '1.0'), '</1/0>,</3/0>,</5>');
    assert.match(registerLinks(s, '1.1', 110), /^<\/>;rt="oma.lwm2m";ct=110,<\/1>;ver=1.2,<\/1\/0>,/);
  });
});

describe('bootstrap back-off', () => {
  it('hold-off doubles per failed attempt up to the cap, with jitter in [1, 1.5)', () => {
    const t = { ...DEFAULT_TIMING, minHoldOffMs: 1000, backoffMaxMs: 20000, jitter: 0.5 };
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => bootstrapDelay(t, 0, n, () => 0)), [1000, 2000, 4000, 8000, 16000, 20000, 20000]);
    assert.equal(bootstrapDelay(t, 3000, 0, () => 0.999), 4499); // 3000 × 1.4995
    assert.equal(bootstrapDelay(t, 30000, 3, () => 0), 30000, 'a hold-off above the cap is kept');
  });
});

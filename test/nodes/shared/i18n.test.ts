/**
 * The nodes' translator (nodes/shared/i18n.ts) against a catalog that interpolates like Node-RED's i18next
 * (__name__), with plural forms by `count`: the text is what RED._ gives, and RED._ is asked once per key,
 * set of variable names and count, however often a node translates.
 */
import assert from 'node:assert/strict';
import type { NodeAPI } from 'node-red';
import { translator } from '../../../nodes/shared/i18n';

function fakeRed(): { red: NodeAPI; calls: string[] } {
  const calls: string[] = [];
  const catalog: Record<string, (v: Record<string, unknown>) => string> = {
    't.status.listening': (v) => `listening :${v.port}`,
    't.status.ok': (v) => (v.count === 1 ? 'one step done' : `${v.count} steps done`),
    't.payload.failed': (v) => `${v.op} ${v.path}: ${v.code}`,
    't.status.done': () => 'done',
  };
  const red = {
    _: (key: string, vars?: Record<string, unknown>) => {
      calls.push(key);
      const f = catalog[key];
      return f ? f(vars ?? {}) : key;
    },
  } as unknown as NodeAPI;
  return { red, calls };
}

describe('nodes/shared/i18n translator', () => {
  it('asks RED._ once per key and variable names, and puts each call\'s values in', () => {
    const { red, calls } = fakeRed();
    const t = translator(red, 't');
    assert.equal(t('status.listening', { port: 5683 }), 'listening :5683');
    assert.equal(t('status.listening', { port: 5684 }), 'listening :5684');
    assert.equal(t('status.done'), 'done');
    assert.equal(t('status.done'), 'done');
    assert.equal(t('payload.failed', { op: 'write', path: '/0/1', code: '4.00' }), 'write /0/1: 4.00');
    assert.equal(t('payload.failed', { op: 'delete', path: '/1', code: '4.04' }), 'delete /1: 4.04');
    // The same names in another order, and another set of names: still the right text.
    assert.equal(t('payload.failed', { path: '/2', code: '5.00', op: 'read' }), 'read /2: 5.00');
    assert.equal(t('payload.failed', { op: 'write', path: '/3' }), 'write /3: undefined');
    assert.equal(t('payload.failed', { op: 'write', path: '/0/1', code: '4.00' }), 'write /0/1: 4.00');
    assert.deepEqual(calls.filter((c) => c === 't.status.listening').length, 1);
    assert.deepEqual(calls.filter((c) => c === 't.status.done').length, 1);
    // One per set of names (the first, the reordered one, the one without code), none for the values.
    assert.ok(calls.filter((c) => c === 't.payload.failed').length <= 3, calls.join(' '));
  });

  it('a plural form per count: RED._ once per count value, however often it comes back', () => {
    const { red, calls } = fakeRed();
    const t = translator(red, 't');
    const counts = [1, 2, 1, 3, 2, 1, 3];
    assert.deepEqual(
      counts.map((count) => t('status.ok', { count })),
      counts.map((c) => (c === 1 ? 'one step done' : `${c} steps done`)),
    );
    assert.equal(calls.length, 3);
  });

  it('a key the catalog lacks and a variable named like an i18next option go to RED._ every time', () => {
    const { red, calls } = fakeRed();
    const t = translator(red, 't');
    assert.equal(t('status.unknown'), 't.status.unknown');
    assert.equal(t('status.unknown'), 't.status.unknown');
    t('status.listening', { lng: 'de', port: 1 });
    t('status.listening', { lng: 'de', port: 2 });
    // The catalog lookup, whose answer is the key itself, is asked every time: it may be there later.
    assert.ok(calls.filter((c) => c === 't.status.unknown').length >= 2);
    assert.ok(calls.filter((c) => c === 't.status.listening').length >= 2);
  });
});

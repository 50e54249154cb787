/** applyTemplate fills plain profiles through JSON text; the result is what the walk gives, or the walk is used. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fill, fillByJson } from '../../../lib/profile/template';
import type { BootstrapProfile } from '../../../lib/profile';

const values = { a: 'x', n: 5, b: true, apn: 'iot.example' };
const leaf = fc.oneof(
  fc.constantFrom('${a}', '${n}', '${b}', 'pre-${a}-${n}', '${apn}.${a}', 'plain', '', '$', '${', '${ a}', 'x${n}y${b}'),
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.boolean(),
  fc.constant(null),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('0', '1', '11', '4', '65535', 'templates')), tie('node'), { maxKeys: 5 })),
})).node;

describe('profile: filling placeholders through JSON', () => {
  it('gives the same as the walk for plain data whose placeholders all have values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), tree, { maxKeys: 6 }), (p) => {
        const issues: { pointer: string; message: string }[] = [];
        const walked = fill(p, values, '', issues);
        const byJson = fillByJson(p as unknown as BootstrapProfile, values);
        if (issues.length) assert.equal(byJson, undefined);
        else {
          assert.deepStrictEqual(byJson, walked);
          assert.deepEqual(Object.keys(byJson as object), Object.keys(walked as object));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the templates section itself, unfilled', () => {
    const t = { apn: '${a}' };
    const out = fillByJson({ name: '${a}', templates: t, x: 1 } as unknown as BootstrapProfile, values) as Record<string, unknown>;
    assert.equal(out.templates, t);
    assert.deepEqual(Object.keys(out), ['name', 'templates', 'x']);
    assert.equal(out.name, 'x');
  });

  it('leaves to the walk what JSON would change, and a placeholder without a value', () => {
    for (const p of [
      { a: Buffer.from('01', 'hex') },
      { a: undefined },
      { a: [1, , 2] }, // eslint-disable-line no-sparse-arrays
      { a: NaN },
      { a: -0 },
      { a: new Date(0) },
      { a: () => 1 },
      JSON.parse('{"__proto__": {"x": 1}}'),
      { a: '${missing}' },
      { a: 10n },
    ]) {
      assert.equal(fillByJson(p as unknown as BootstrapProfile, values), undefined, String(Object.keys(p)));
    }
  });

  it('checks again a profile changed since it was filled', () => {
    const p: Record<string, unknown> = { name: 'p', a: '${a}' };
    assert.deepEqual(fillByJson(p as unknown as BootstrapProfile, values), { name: 'p', a: 'x' });
    p.b = Buffer.from('01', 'hex');
    assert.equal(fillByJson(p as unknown as BootstrapProfile, values), undefined);
    delete p.b;
    p.a = '${n}';
    assert.deepEqual(fillByJson(p as unknown as BootstrapProfile, values), { name: 'p', a: 5 });
  });
});

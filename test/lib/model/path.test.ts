import assert from 'node:assert/strict';
import { PathError } from '../../../lib/errors';
import { LwM2mPath } from '../../../lib/model';

describe('model: LwM2mPath', () => {
  const good: [string, number[], string][] = [
    ['/', [], 'root'],
    ['', [], 'root'],
    ['/3', [3], 'object'],
    ['3/0', [3, 0], 'instance'],
    ['/0/1/5/', [0, 1, 5], 'resource'],
    ['/3/0/6/1', [3, 0, 6, 1], 'resourceInstance'],
    ['/65535/0', [65535, 0], 'instance'],
  ];
  for (const [input, ids, level] of good) {
    it(`parses "${input}" as ${level}`, () => {
      const p = LwM2mPath.parse(input);
      assert.deepEqual([...p.ids], ids);
      assert.equal(p.level, level);
      assert.equal(LwM2mPath.parse(p.toString()).equals(p), true);
    });
  }

  const bad = ['/a', '//3', '/3//0', '/-1', '/03', '/65536', '/1/2/3/4/5', '/3/0.5', '/ 3'];
  for (const input of bad) {
    it(`rejects "${input}" with a PathError naming the input`, () => {
      assert.throws(
        () => LwM2mPath.parse(input),
        (e: unknown) => e instanceof PathError && e.input === input && e.code === 'PATH',
      );
    });
  }

  it('contains, parent and append agree', () => {
    const p = LwM2mPath.parse('/0/1');
    assert.equal(p.contains(p.append(5)), true);
    assert.equal(p.append(5).parent().equals(p), true);
    assert.equal(LwM2mPath.parse('/0/2').contains(LwM2mPath.parse('/0/1/5')), false);
    assert.equal(JSON.stringify({ p }), '{"p":"/0/1"}');
  });
});

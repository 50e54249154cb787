/**
 * `npm install` in a checkout runs scripts/build-addon.js --install: it compiles the DTLS addon when build/
 * is missing or older than native/, quietly, and otherwise says in one line that the build is current
 * (issue 13: it recompiled on every install, with 43 lines of compiler output).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');

function install(): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-addon.js'), '--install'], { cwd: root, encoding: 'utf8' });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '') };
}

describe('scripts/build-addon.js --install in a checkout', function () {
  this.timeout(180000);

  it('does not recompile an addon that is current with native/, and never prints compiler output on success', () => {
    const first = install(); // builds only if build/ is missing or stale
    assert.equal(first.status, 0);
    assert.equal(first.lines.length, 1, first.lines.join('\n'));
    const second = install();
    assert.equal(second.status, 0);
    assert.equal(second.lines.length, 1, second.lines.join('\n'));
    assert.match(second.lines[0], /DTLS addon up to date with native\//);
  });
});

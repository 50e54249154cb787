/**
 * What `npm pack` publishes, checked in the normal test run (fast, no Node 22): scripts/compat/pack-contents.js
 * passes on this checkout's tarball listing and fails on listings that miss what a user needs or carry tests.
 * scripts/compat-check.sh runs the same checker and then installs the real tarball on both supported lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHECKER = path.join(ROOT, 'scripts', 'compat', 'pack-contents.js');

interface Listing {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

function check(listing: Listing[]): { status: number | null; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pack-contents-'));
  try {
    const file = path.join(dir, 'pack.json');
    fs.writeFileSync(file, JSON.stringify(listing));
    const r = spawnSync(process.execPath, [CHECKER, file, ROOT], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('published package contents (npm pack)', function () {
  let listing: Listing[];

  before(function () {
    // The npm that runs the tests (npm test / npx), not node_modules/.bin/npm (a dev dependency's npm 10, ~10 s).
    const cli = process.env.npm_execpath;
    const [cmd, args] = cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli]] : ['npm', []];
    const r = spawnSync(cmd, [...args, 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    listing = JSON.parse(r.stdout) as Listing[];
  });

  it('holds every node with its editor, both locales and icons, the library, examples, addon sources and prebuild, and no tests', function () {
    const r = check(listing);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /PACK ok/);
  });

  it('fails a listing that ships compiled tests', function () {
    const bad = [{ ...listing[0], files: [...listing[0].files, { path: 'dist/test/lib/codec/tlv.test.js' }] }];
    const r = check(bad);
    assert.equal(r.status, 1);
    assert.match(r.out, /dist\/test\/lib\/codec\/tlv\.test\.js should not ship/);
  });

  it('fails a listing without a node\'s German help or its icon', function () {
    const drop = new Set(['dist/nodes/object-write/locales/de/object-write.html', 'dist/nodes/object-write/icons/lwm2m-write.svg']);
    const bad = [{ ...listing[0], files: listing[0].files.filter((f) => !drop.has(f.path)) }];
    const r = check(bad);
    assert.equal(r.status, 1);
    assert.match(r.out, /missing dist\/nodes\/object-write\/locales\/de\/object-write\.html/);
    assert.match(r.out, /missing dist\/nodes\/object-write\/icons\/lwm2m-write\.svg/);
  });

  it('fails a listing without the prebuilt addon or the sources to build it', function () {
    const bad = [{ ...listing[0], files: listing[0].files.filter((f) => !/^(prebuilds|native)\//.test(f.path)) }];
    const r = check(bad);
    assert.equal(r.status, 1);
    assert.match(r.out, /no native\/\*\.c/);
    assert.match(r.out, /no prebuilds\/linux-x64/);
  });
});

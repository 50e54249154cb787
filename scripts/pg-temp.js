'use strict';
/**
 * A throwaway PostgreSQL cluster in a temporary directory, for tests, `npm run test:scale` and the bench.
 * Uses Debian's binaries (/usr/lib/postgresql/<version>/bin, or PG_BIN). PostgreSQL refuses to run as
 * root, so as root (CI) the cluster runs as the unprivileged user `nobody` (runuser). Listens on
 * 127.0.0.1:<port> and trusts local connections; nothing is kept after stop().
 *
 *   const pg = await startTempPostgres({ port });   // -> { url, stop() }
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

function pgBin() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error('PostgreSQL server binaries not found (Debian: apt-get install postgresql; or set PG_BIN to the folder of initdb and pg_ctl)');
  }
  return path.join(base, versions[0], 'bin');
}

function asUser(user, cmd, args) {
  if (!user) return [cmd, args];
  return ['runuser', ['-u', user, '--', cmd, ...args]];
}

async function startTempPostgres({ port, user } = {}) {
  const bin = pgBin();
  const runAs = user ?? (process.getuid && process.getuid() === 0 ? 'nobody' : undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  if (runAs) {
    const uid = Number(execFileSync('id', ['-u', runAs]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', runAs]).toString().trim());
    fs.chownSync(dir, uid, gid);
    fs.chownSync(sock, uid, gid);
    fs.chmodSync(dir, 0o700);
  }
  const run = (cmd, args) => {
    const [c, a] = asUser(runAs, path.join(bin, cmd), args);
    const r = spawnSync(c, a, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${(r.stderr || r.stdout || '').trim().slice(-800)}`);
    return r.stdout;
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);
  const opts = `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    dir,
    logFile: path.join(dir, 'server.log'),
    /** Stops the server now (fast shutdown) and removes the directory. */
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already down
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** pg_ctl stop/start on the same data (a database outage in tests). */
    pause() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    resume() {
      run('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    },
  };
}

module.exports = { startTempPostgres, pgBin };

/**
 * examples/06-coaps-psk.json in a real Node-RED process, as an operator imports it (the package linked
 * into the user directory, no credentials file): the CoAPs listener takes the demo key from the shipped
 * key file, the client sim in the example bootstraps over CoAPs with it, and no key reaches the debug
 * sidebar, a status or the log.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { assertNoKey } from '../support/no-secret';
import { nextPort } from '../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', '06-coaps-psk.json');
const RUNNER = path.join(__dirname, 'support', 'run-example.js');

interface Report {
  ready?: boolean;
  status?: { id: string; status: { fill?: string; shape?: string; text?: string } };
  debug?: { name?: string; msg: string };
  log?: { level: number; msg: string; type?: string; id?: string };
}

describe('example 06: CoAPs with a PSK', function () {
  this.timeout(60000);
  let proc: ChildProcess | undefined;

  afterEach(async () => {
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc!.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
    proc = undefined;
  });

  it('bootstraps its simulated device over CoAPs with the demo key, right after deploy, showing no key', async () => {
    const port = await nextPort();
    const env: NodeJS.ProcessEnv = { ...process.env, BS_COAPS_PORT: String(port), BS_ADDRESS: '127.0.0.1', HTTP_PORT: '0' };
    delete env.DM_SERVER_URI;
    proc = spawn(process.execPath, [RUNNER, EXAMPLE], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const reports: Report[] = [];
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        reports.push(JSON.parse(line) as Report);
      } catch {
        // not a report
      }
    });
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as { id: string; type: string }[];
    const listener = flow.find((n) => n.type === 'lwm2m-bootstrap-listener')!;
    const end = Date.now() + 30000;
    let audit: Report | undefined;
    while (!audit && Date.now() < end) {
      audit = reports.find((r) => r.debug?.name === 'bootstrapped (audit)');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(audit, `no bootstrap within 30 s; last reports: ${JSON.stringify(reports.slice(-8))}`);
    const rec = JSON.parse(audit.debug!.msg) as { outcome: string; endpoint: string; identity?: { type: string; id: string } };
    assert.equal(rec.outcome, 'SUCCESS');
    assert.equal(rec.endpoint, 'coaps-demo-1');
    assert.deepEqual(rec.identity, { type: 'psk', id: 'coaps-demo-1' });
    const listening = reports.filter((r) => r.status?.id === listener.id).map((r) => r.status!.status.text);
    assert.ok(listening.some((t) => t === `listening coaps :${port} · 0 peers`), JSON.stringify(listening));

    const csv = fs.readFileSync(path.join(ROOT, 'examples', 'data', 'coaps-demo-keys.csv'), 'utf8');
    const key = /coaps-demo-1,coaps-demo-1,([0-9a-f]+)/.exec(csv)![1];
    assertNoKey(JSON.stringify(reports), key, 'debug messages, status and log lines');
    assertNoKey(fs.readFileSync(EXAMPLE), key, 'the flow JSON');
    const problems = reports.filter((r) => r.log && (r.log.level <= 20 || (r.log.level <= 30 && r.log.id))).map((r) => r.log);
    assert.deepEqual(problems, [], 'no warnings or errors from the runtime');
  });
});

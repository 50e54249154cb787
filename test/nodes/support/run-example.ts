/**
 * Runs one example flow in a real Node-RED runtime, in its own process, the way an operator would:
 * a fresh user directory with this package linked into node_modules, the example as flows.json.
 * Reports on stdout, one JSON object per line: {ready, httpPort}, {status}, {debug}, {log}.
 *
 *   node run-example.js <example.json> [<more.json> …]   (env: HTTP_PORT, BS_PORT, … as the example documents)
 *
 * Several examples load together into one runtime (one flows.json), as an operator who imports them all.
 * An example may set its own port in its flow's environment (tab `env`: BS_PORT, BS_COAPS_PORT, BS_ADDRESS).
 * The test's environment wins over those, so a single example runs on a free port a test chose; with
 * PORT_SHIFT=n every port an example sets is moved by n instead (all nine together, away from ports in use).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

/* eslint-disable @typescript-eslint/no-require-imports */
const root = path.resolve(__dirname, '..', '..', '..', '..');
const examples = process.argv.slice(2).map((f) => path.resolve(f));
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-example-'));
fs.mkdirSync(path.join(userDir, 'node_modules'));
fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-lwm2m-bootstrap'), 'dir');
fs.writeFileSync(
  path.join(userDir, 'package.json'),
  JSON.stringify({ name: 'example-run', private: true, dependencies: { 'node-red-contrib-lwm2m-bootstrap': 'file:' + root } }),
);
fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(examples.flatMap((f) => withTestEnv(JSON.parse(fs.readFileSync(f, 'utf8'))))));

/** The flows' own port and address settings, overridden by the test's environment (see above). */
function withTestEnv(flow: { type: string; env?: { name: string; value: string; type: string }[] }[]): unknown[] {
  const shift = process.env.PORT_SHIFT === undefined ? undefined : Number(process.env.PORT_SHIFT);
  for (const n of flow) {
    if (n.type !== 'tab' || !Array.isArray(n.env)) continue;
    for (const e of n.env) {
      if (!['BS_PORT', 'BS_COAPS_PORT', 'BS_ADDRESS'].includes(e.name)) continue;
      if (shift !== undefined) {
        if (e.name !== 'BS_ADDRESS') e.value = String(Number(e.value) + shift);
      } else if (process.env[e.name] !== undefined) {
        e.value = String(process.env[e.name]);
        e.type = 'str';
      }
    }
  }
  return flow;
}

const emit = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

const RED = require('node-red');
const express = require('express');
const events = require('@node-red/util').events;
const app = express();
const server = http.createServer(app);

RED.init(server, {
  userDir,
  flowFile: 'flows.json',
  credentialSecret: false,
  httpAdminRoot: '/red',
  httpNodeRoot: '/',
  editorTheme: { tours: false },
  logging: {
    console: { level: 'off' },
    report: {
      level: 'warn',
      metrics: false,
      audit: false,
      handler: () => (m: { level: number; msg: unknown; type?: string; id?: string }) =>
        emit({ log: { level: m.level, msg: String(m.msg), type: m.type, id: m.id } }),
    },
  },
});
app.use('/red', RED.httpAdmin);
app.use('/', RED.httpNode);

events.on('comms', (e: { topic: string; data: unknown }) => {
  if (e.topic === 'debug') emit({ debug: e.data });
});
events.on('node-status', (e: { id: string; status: unknown }) => emit({ status: { id: e.id, status: e.status } }));
events.on('flows:started', () => emit({ ready: true, httpPort: (server.address() as { port: number }).port }));

server.listen(Number(process.env.HTTP_PORT ?? 0), '127.0.0.1', () => {
  RED.start().catch((e: Error) => {
    emit({ log: { level: 20, msg: `start failed: ${e.message}` } });
    process.exit(1);
  });
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  RED.stop()
    .catch(() => undefined)
    .finally(() => {
      server.close();
      fs.rmSync(userDir, { recursive: true, force: true });
      emit({ stopped: true });
      process.exit(0);
    });
});

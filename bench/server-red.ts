/**
 * The system under test: the real Node-RED runtime, started programmatically in this (child) process
 * with a temporary user directory into whose node_modules this checkout is linked (as scripts/start.js
 * does), running the demo flow of bench/flow.ts. Node-RED's log lines of level warn and above are
 * counted by message, so failures the flow reports show up in the results.
 *
 * Config in BENCH_CONFIG (JSON).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { serve } from './ipc';
import { Probe, probeHandlers } from './probe';
import { benchFlow } from './flow';

interface Config {
  port: number;
  dmPort: number;
  tableFile: string;
  requestTimeoutS: number;
  maxSessions: number;
  /** CoAPs listener with PSK keys from this table (see flow.ts); plain CoAP without. */
  pskTableFile?: string;
  /**
   * The audit log (JSON Lines under the user directory) and an open "LwM2M" sidebar: the admin API on a
   * loopback port, asked for GET /lwm2m-bootstrap/sessions once a second as the sidebar does. Without it
   * the audit log is off and no admin API runs.
   */
  observe?: boolean;
}

/** The sidebar's poll, as the editor makes it: only what is new since the last answer. */
function sidebarFeed(port: number): { stats(): { polls: number; bytes: number; failed: number }; stop(): void } {
  let seq = 0;
  let polls = 0;
  let bytes = 0;
  let failed = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    http
      .get({ host: '127.0.0.1', port, path: `/lwm2m-bootstrap/sessions?since=${seq}` }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          busy = false;
          polls++;
          const body = Buffer.concat(chunks);
          bytes += body.length;
          try {
            seq = (JSON.parse(body.toString('utf8')) as { seq: number }).seq;
          } catch {
            failed++;
          }
        });
      })
      .on('error', () => {
        busy = false;
        failed++;
      });
  }, 1000);
  return { stats: () => ({ polls, bytes, failed }), stop: () => clearInterval(timer) };
}

const root = path.resolve(__dirname, '..', '..');

function prepareUserDir(cfg: Config): string {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-bench-red-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-lwm2m-bootstrap'), 'dir');
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'lwm2m-bench', private: true, dependencies: { 'node-red-contrib-lwm2m-bootstrap': 'file:' + root } }),
  );
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(benchFlow(cfg)));
  return userDir;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Config;
  const userDir = prepareUserDir(cfg);
  const logged = new Map<string, number>();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as {
    init(server: http.Server | object, settings?: object): void;
    httpAdmin: http.RequestListener;
    start(): Promise<void>;
    stop(): Promise<void>;
    events: { once(ev: string, cb: () => void): void };
    nodes: { getNode(id: string): unknown };
  };
  const auditDir = path.join(userDir, 'lwm2m-audit');
  const admin = cfg.observe ? http.createServer((req, res) => RED.httpAdmin(req, res)) : undefined;
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: 'bench-only',
    httpAdminRoot: cfg.observe ? '/' : false,
    lwm2mBootstrap: { audit: cfg.observe ? { directory: auditDir } : false },
    httpNodeRoot: false,
    disableEditor: true,
    externalModules: { autoInstall: false },
    logging: {
      // BENCH_RED_LOG=debug shows Node-RED's own log on stderr (for finding out why a flow does not run).
      console: { level: process.env.BENCH_RED_LOG ?? 'off', metrics: false, audit: false },
      bench: {
        level: 'warn',
        metrics: false,
        audit: false,
        handler: () => (m: { level: number; msg: unknown; type?: string }) => {
          const text = `${m.type ?? 'runtime'}: ${String(m.msg).replace(/bench-dev-\d+/g, 'bench-dev-N').slice(0, 160)}`;
          logged.set(text, (logged.get(text) ?? 0) + 1);
        },
      },
    },
  };
  if (admin) RED.init(admin, settings);
  else RED.init(settings);
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', resolve));
  await RED.start();
  await started;
  const ids = ['bench-listener', 'bench-profiles', 'bench-table', 'bench-lookup', 'bench-write', 'bench-finish'];
  if (cfg.pskTableFile) ids.push('bench-psk-table');
  for (const id of ids) {
    if (!RED.nodes.getNode(id)) throw new Error(`node ${id} of the bench flow did not start (is the package built? BENCH_RED_LOG=debug BENCH_VERBOSE=1 shows why)`);
  }
  logged.clear(); // start-up notices (projects disabled, no credentials file) are not bench findings
  // Give the listener its socket.
  await new Promise((r) => setTimeout(r, 200));

  let feed: ReturnType<typeof sidebarFeed> | undefined;
  if (admin) {
    await new Promise<void>((r) => admin.listen(0, '127.0.0.1', () => r()));
    feed = sidebarFeed((admin.address() as { port: number }).port);
  }
  /** Lines in the audit files (one per ended session). */
  const auditLines = (): number => {
    if (!fs.existsSync(auditDir)) return 0;
    let n = 0;
    for (const f of fs.readdirSync(auditDir)) n += fs.readFileSync(path.join(auditDir, f), 'utf8').split('\n').filter(Boolean).length;
    return n;
  };

  const probe = new Probe();
  serve(
    {
      ...probeHandlers(probe),
      stats: () => ({ logged: Object.fromEntries(logged) }),
      clearLog: () => logged.clear(),
      observe: () => ({ feed: feed?.stats(), auditLines: auditLines() }),
      quit: async () => {
        feed?.stop();
        admin?.close();
        await RED.stop().catch(() => undefined);
        fs.rmSync(userDir, { recursive: true, force: true });
        setImmediate(() => process.exit(0));
      },
    },
    { port: cfg.port, userDir },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`server-red: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

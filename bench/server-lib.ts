/**
 * Baseline "the library alone": the same storm against lib/bootstrap without Node-RED. Per
 * Bootstrap-Request it does what the demo flow does (device-table row -> profile with the device's
 * values filled in and validated -> runBootstrap -> Bootstrap-Finish), in plain code.
 *
 * Child process of bench/run; config in BENCH_CONFIG (JSON).
 */
import { BootstrapServer, runBootstrap, SessionOutcome, type BootstrapSession } from '../lib/bootstrap';
import { applyTemplate, type BootstrapProfile } from '../lib/profile';
import { serve } from './ipc';
import { Probe, probeHandlers } from './probe';
import { benchProfile, readDeviceTable } from './scenario';

interface Config {
  tableFile: string;
  dmPort: number;
  requestTimeoutMs: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Config;
  const table = readDeviceTable(cfg.tableFile);
  const profile = benchProfile(cfg.dmPort) as unknown as BootstrapProfile;
  const errors = new Map<string, number>();
  const count = (k: string): void => void errors.set(k, (errors.get(k) ?? 0) + 1);

  const server = new BootstrapServer({
    port: 0,
    address: '127.0.0.1',
    requestTimeoutMs: cfg.requestTimeoutMs,
    sessionTimeoutMs: 90_000,
    maxSessions: 50_000,
  });
  server.on('bootstrapRequest', (session: BootstrapSession) => {
    void bootstrap(session).catch((err: unknown) => {
      count(err instanceof Error ? err.name : 'error');
      if (session.state === 'pending') void session.reject('5.00', 'bootstrap failed').catch(() => undefined);
      else session.end(SessionOutcome.INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
    });
  });

  async function bootstrap(session: BootstrapSession): Promise<void> {
    const row = table.get(session.endpoint);
    if (!row) {
      await session.reject('4.04', 'unknown device');
      return;
    }
    const p = applyTemplate(profile, { apn: row.apn });
    const r = await runBootstrap(session, p, { stopOnError: true });
    if (!r.ok) {
      count('step-failed');
      session.end(SessionOutcome.REQUEST_FAILED, 'a bootstrap step failed');
      return;
    }
    await session.finish();
  }

  const addr = await server.listen();
  const probe = new Probe();
  serve(
    {
      ...probeHandlers(probe),
      stats: () => ({ ...server.stats(), errors: Object.fromEntries(errors) }),
      quit: async () => {
        await server.close();
        setImmediate(() => process.exit(0));
      },
    },
    { port: addr.port },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`server-lib: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

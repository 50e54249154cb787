/**
 * Baseline "the library alone": the same storm against lib/bootstrap without Node-RED
 * (bench/lib-handler.ts does per request what the demo flow does).
 *
 * Child process of bench/run; config in BENCH_CONFIG (JSON).
 */
import { BootstrapServer } from '../lib/bootstrap';
import { serve } from './ipc';
import { handleBootstraps } from './lib-handler';
import { Probe, probeHandlers } from './probe';
import { readDeviceTable } from './scenario';

interface Config {
  tableFile: string;
  dmPort: number;
  requestTimeoutMs: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Config;
  const server = new BootstrapServer({
    port: 0,
    address: '127.0.0.1',
    requestTimeoutMs: cfg.requestTimeoutMs,
    sessionTimeoutMs: 90_000,
    maxSessions: 50_000,
    // Every simulated device comes from 127.0.0.1 (one NAT address): without this the per-source cap (100
    // pending sessions) would shed the sessions the pending-session memory row holds and flatter its figure.
    maxPendingPerSource: 50_000,
  });
  const errors = handleBootstraps(server, readDeviceTable(cfg.tableFile), cfg.dmPort);
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

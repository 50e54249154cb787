/**
 * DTLS-PSK (TLS_PSK_WITH_AES_128_CCM_8) server for the DTLS figures, in one of two modes (BENCH_CONFIG):
 *  - 'raw': the addon's DtlsSocket alone, no CoAP: the rate of bare handshakes (the DTLS floor);
 *  - 'lib': BootstrapServer over the same DtlsSocket, with the library-only bootstrap handler.
 * Every `bench-dev-N` identity has the same key (a benchmark has no use for a key per device).
 * The per-source handshake rate limit is lifted: all devices come from 127.0.0.1.
 */
import { BootstrapServer } from '../lib/bootstrap';
import { createDtlsSocket, type PskStore } from '../lib/dtls';
import { serve } from './ipc';
import { handleBootstraps } from './lib-handler';
import { Probe, probeHandlers } from './probe';
import { readDeviceTable } from './scenario';

import { BENCH_PSK_HEX } from './dtls-bench';

const BENCH_PSK = Buffer.from(BENCH_PSK_HEX, 'hex');

interface Config {
  mode: 'raw' | 'lib';
  tableFile: string;
  dmPort: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Config;
  const psk: PskStore = {
    get: (identity) => (typeof identity === 'string' && identity.startsWith('bench-dev-') ? BENCH_PSK : undefined),
  };
  const socket = createDtlsSocket({
    psk,
    ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'],
    maxPeers: 20_000,
    handshakesPerSourcePerSecond: 1_000_000,
    idleTimeoutMs: 60_000,
  });
  let handshakes = 0;
  socket.on('handshake', () => handshakes++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  let server: BootstrapServer | undefined;
  let errors = new Map<string, number>();
  if (cfg.mode === 'lib') {
    server = new BootstrapServer({ socket: socket as never, requestTimeoutMs: 30_000, sessionTimeoutMs: 90_000, maxSessions: 50_000 });
    errors = handleBootstraps(server, readDeviceTable(cfg.tableFile), cfg.dmPort);
    await server.listen();
  }
  const probe = new Probe();
  serve(
    {
      ...probeHandlers(probe),
      stats: () => ({ handshakes, dtls: socket.stats(), bootstrap: server?.stats(), errors: Object.fromEntries(errors) }),
      quit: async () => {
        await server?.close();
        await new Promise<void>((r) => socket.close(() => r()));
        setImmediate(() => process.exit(0));
      },
    },
    { port: socket.address().port },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`server-dtls: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

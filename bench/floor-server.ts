/** Child process: the server half of the floor (bench/floor.ts), restarted with each script. */
import { serve } from './ipc';
import { Probe, probeHandlers } from './probe';
import { startFloorServer } from './floor';
import type { WireStep } from './device';

let server: { port: number; close(): void } | undefined;
const probe = new Probe();
serve({
  ...probeHandlers(probe),
  script: async (script: WireStep[]) => {
    server?.close();
    server = await startFloorServer(script);
    return { port: server.port };
  },
  quit: () => {
    server?.close();
    setImmediate(() => process.exit(0));
  },
});

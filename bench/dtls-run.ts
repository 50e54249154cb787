/**
 * The DTLS rows of `npm run bench` alone (raw handshakes, library and Node-RED over DTLS-PSK), for working on
 * them without the whole bench: `npm run build && node dist/bench/dtls-run.js [--devices 2000] [--concurrency 20] [--format tlv] [--profile]
 *`. BENCH_DTLS_CLIENT=node runs node-dtls-client instead of the C client.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Child } from './ipc';
import { dtlsDeviceRows, runDtls } from './dtls-bench';
import { FORMATS, writeDeviceTable } from './scenario';
import { round } from './stats';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const devices = arg('devices', 2000);
  const concurrency = arg('concurrency', 20);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dtls-run-'));
  const tableFile = path.join(tmp, 'devices.csv');
  writeDeviceTable(tableFile, dtlsDeviceRows(devices, false) + 10);
  let next = 0;
  const loadgen = Child.start('load generator', path.join(__dirname, 'loadgen.js'));
  try {
    await loadgen.ready;
    const profileFile = process.argv.includes('--profile') ? path.join(tmp, 'library-dtls.cpuprofile') : undefined;
    const fi = process.argv.indexOf('--format');
    const format = fi > 0 ? process.argv[fi + 1] : 'tlv';
    if (FORMATS[format] === undefined) throw new Error(`--format: one of ${Object.keys(FORMATS).join(', ')}`);
    const d = await runDtls({ loadgen, tableFile, alloc: (n) => ((next += n), next - n), devices, concurrency, pct: FORMATS[format], format, profileFile });
    const row = (r: typeof d.raw) =>
      r ? `${r.label}: ${round(r.perSecond, 0)}/s, ${r.completed} ok, ${r.failed} failed, server ${round(r.serverCpuMsPerBoot ?? 0, 3)} ms CPU each, load generator ${round(r.loadgenCpuS ?? 0, 2)} s CPU` : '-';
    process.stdout.write(
      [
        ...(d.profile ? [JSON.stringify((d.profile as { top: unknown[] }).top.slice(0, 25), null, 1), JSON.stringify((d.profile as { byArea: unknown }).byArea)] : []),
        row(d.raw), row(d.library), row(d.nodeRed), `library/raw ${round((d.ratio ?? 0) * 100, 0)}%, node-red/raw ${round((d.nodeRedRatio ?? 0) * 100, 0)}%`, d.note].join('\n') + '\n',
    );
  } finally {
    await loadgen.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

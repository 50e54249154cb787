/**
 * Worker thread of a file device table (lib/devices/file-table.ts): reads and parses a large table file away
 * from the event loop that answers devices, and hands the compact rows back (typed arrays transferred).
 */
import { readFileSync } from 'fs';
import { parentPort, workerData } from 'worker_threads';
import { buildTable, type BuildOptions } from './compact-table';

const { file, options } = workerData as { file: string; options: BuildOptions };
try {
  const data = buildTable(readFileSync(file, 'utf8'), options);
  parentPort?.postMessage({ ok: true, data }, [data.offsets.buffer as ArrayBuffer, ...Object.values(data.indexes).map((a) => a.buffer as ArrayBuffer)]);
} catch (e) {
  parentPort?.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
}

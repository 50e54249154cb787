/**
 * The floor: a raw loopback UDP request/response loop in plain Node with the same datagrams as one
 * bootstrap (the same number, directions and sizes, taken from a traced bootstrap of the same run), at
 * the same concurrency. No CoAP, no sessions, no codecs: what the machine and Node's dgram can do.
 *
 * Byte 0 of every datagram is its index in the script; the server side keeps no state beyond that.
 */
import * as dgram from 'dgram';
import type { WireStep } from './device';

/** Resend the last device datagram after this long without the next server datagram. */
const RETRY_MS = 1000;

export interface FloorResult {
  completed: number;
  failed: number;
  latencies: number[];
  wallS: number;
  loadgenCpuS: number;
}

/** The server half: answers script step i (from the device) with the server steps that follow it. */
export function startFloorServer(script: WireStep[], port = 0): Promise<{ port: number; close(): void }> {
  const sock = dgram.createSocket('udp4');
  const replies: Buffer[][] = script.map(() => []);
  for (let i = 0; i < script.length; i++) {
    if (script[i].from !== 'device') continue;
    for (let j = i + 1; j < script.length && script[j].from === 'server'; j++) {
      const b = Buffer.alloc(Math.max(1, script[j].size), 0x5a);
      b[0] = j;
      replies[i].push(b);
    }
  }
  const first: Buffer[] = [];
  for (let j = 0; j < script.length && script[j].from === 'server'; j++) first.push(Buffer.alloc(script[j].size, 0x5a));
  sock.on('message', (msg, rinfo) => {
    const i = msg[0];
    const out = replies[i];
    if (!out) return;
    for (const b of out) sock.send(b, 0, b.length, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    sock.bind(port, '127.0.0.1', () => resolve({ port: sock.address().port, close: () => sock.close() }));
  });
}

/** The client half: `count` scripted exchanges, `concurrency` at a time, one socket per slot. */
export async function runFloor(
  host: string,
  port: number,
  script: WireStep[],
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<FloorResult> {
  if (script.length === 0 || script[0].from !== 'device') throw new Error('a floor script starts with a device datagram');
  const sends: Buffer[] = script.map((s, i) => {
    const b = Buffer.alloc(Math.max(1, s.size), 0x5a);
    b[0] = i;
    return b;
  });
  // After receiving server step j, the device sends step j+1 when it is a device step.
  const last = script.length - 1;
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const slots = Math.min(concurrency, count);
  await Promise.all(
    Array.from({ length: slots }, async () => {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      let onMsg: ((i: number) => void) | undefined;
      sock.on('message', (msg) => onMsg?.(msg[0]));
      while (next < count) {
        next++;
        const ms = await new Promise<number>((resolve) => {
          const started = performance.now();
          const timer = setTimeout(() => resolve(-1), timeoutMs);
          // Datagrams lost on a full receive buffer are sent again after RETRY_MS (as CoAP would, only sooner).
          let want = 0; // index of the next server datagram expected
          let lastSent = 0;
          let retry: NodeJS.Timeout | undefined;
          const arm = (): void => {
            clearTimeout(retry);
            retry = setTimeout(() => {
              sendFrom(lastSent);
            }, RETRY_MS);
          };
          const finish = (): void => {
            clearTimeout(timer);
            clearTimeout(retry);
            resolve(performance.now() - started);
          };
          const sendFrom = (i: number): void => {
            lastSent = i;
            let k = i;
            while (k <= last && script[k].from === 'device') {
              sock.send(sends[k], 0, sends[k].length, port, host);
              k++;
            }
            if (k > last) return finish();
            want = k;
            arm();
          };
          onMsg = (j) => {
            if (j < want) return; // a duplicate after a resend
            want = j + 1;
            if (j + 1 <= last && script[j + 1].from === 'device') sendFrom(j + 1);
            else if (j === last) finish();
          };
          sendFrom(0);
        });
        if (ms < 0) failed++;
        else latencies.push(ms);
      }
      onMsg = undefined;
      await new Promise<void>((r) => sock.close(() => r()));
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { completed: latencies.length, failed, latencies, wallS: (performance.now() - t0) / 1000, loadgenCpuS: (cpu.user + cpu.system) / 1e6 };
}

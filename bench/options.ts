/** Command-line options of `npm run bench` (and `npm run bench:smoke` = `--smoke`). */
import * as path from 'path';
import { FORMATS } from './scenario';

export interface BenchOptions {
  devices: number;
  concurrency: number;
  /** Storms of `devices` new devices in a row through Node-RED (degradation and memory over time). */
  history: number;
  /** Sessions held open for the heap-per-session figure. */
  pending: number;
  /** Concurrency levels of the chart. */
  sweep: number[];
  /** Formats each storm runs in (the device's pct). */
  formats: string[];
  /** One storm of this many devices through Node-RED (0 = skip). */
  big: number;
  /** Profile the Node-RED server during the format storms. */
  profile: boolean;
  /** Skip DTLS figures. */
  dtls: boolean;
  out: string;
  smoke: boolean;
  /** Per-device deadline, ms. */
  timeoutMs: number;
  /** Rows of the million-row device table part (0 = skip). */
  million: number;
  /** Devices of the storm the memory part measures RSS around (0 = skip). */
  memory: number;
  /** Seconds after that storm when the memory part reads RSS again. */
  memoryWaitS: number;
  /** Run only these parts (undefined = all). */
  only?: string[];
}

/** The parts of a run, for --only. */
export const PARTS = ['formats', 'observe', 'sweep', 'history', 'big', 'pending', 'dtls', 'million', 'memory'] as const;

const HELP = `usage: node dist/bench/run.js [options]
  --devices N        devices per storm (default 1000)
  --concurrency C    devices bootstrapping at once (default 50)
  --history H        storms of N new devices in a row through Node-RED (default 3; the issue's check is 10)
  --pending P        sessions held open for heap per session (default 5000)
  --sweep a,b,c      concurrency levels of the chart (default 1,10,25,50,100,200)
  --formats list     tlv,senml-json,senml-cbor,lwm2m-cbor (default: all)
  --big N            one extra Node-RED storm of N devices (default 100000, 0 = skip)
  --no-profile       do not profile the Node-RED server
  --no-dtls          skip DTLS figures
  --out DIR          results folder (default bench/results)
  --million N        rows of the device-table part: file table (CSV, JSON) and MemoryDeviceSource
                     (default 1000000, smoke 20000, 0 = skip)
  --memory N         devices of the storm the RSS part measures around (default 10000, smoke 0 = skip)
  --memory-wait S    seconds after that storm when RSS is read again (default 60)
  --only a,b         only these parts: ${PARTS.join(',')}
  --smoke            a small, quick run for CI (results in bench/results/smoke)
`;

export function parseOptions(argv: string[], root: string): BenchOptions {
  const smoke = argv.includes('--smoke');
  const o: BenchOptions = smoke
    ? {
        devices: 200,
        concurrency: 20,
        history: 2,
        pending: 500,
        sweep: [10, 50],
        formats: Object.keys(FORMATS),
        big: 0,
        profile: false,
        dtls: true,
        out: path.join(root, 'bench', 'results', 'smoke'),
        smoke,
        timeoutMs: 20_000,
        million: 20_000,
        memory: 0,
        memoryWaitS: 60,
      }
    : {
        devices: 1000,
        concurrency: 50,
        history: 3,
        pending: 5000,
        sweep: [1, 10, 25, 50, 100, 200],
        formats: Object.keys(FORMATS),
        big: 100_000,
        profile: true,
        dtls: true,
        out: path.join(root, 'bench', 'results'),
        smoke,
        timeoutMs: 30_000,
        million: 1_000_000,
        memory: 10_000,
        memoryWaitS: 60,
      };
  const int = (v: string | undefined, name: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} needs an integer >= ${min}, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => argv[++i];
    switch (a) {
      case '--smoke':
        break;
      case '--devices':
        o.devices = int(v(), a, 1);
        break;
      case '--concurrency':
        o.concurrency = int(v(), a, 1);
        break;
      case '--history':
        o.history = int(v(), a, 0);
        break;
      case '--pending':
        o.pending = int(v(), a, 0);
        break;
      case '--big':
        o.big = int(v(), a, 0);
        break;
      case '--sweep':
        o.sweep = v().split(',').map((s) => int(s, a, 1));
        break;
      case '--formats': {
        o.formats = v().split(',');
        const bad = o.formats.filter((f) => !(f in FORMATS));
        if (bad.length) throw new Error(`unknown format ${bad.join(', ')}; use ${Object.keys(FORMATS).join(', ')}`);
        break;
      }
      case '--million':
        o.million = int(v(), a, 0);
        break;
      case '--memory':
        o.memory = int(v(), a, 0);
        break;
      case '--memory-wait':
        o.memoryWaitS = int(v(), a, 0);
        break;
      case '--only': {
        o.only = v().split(',');
        const bad = o.only.filter((p) => !(PARTS as readonly string[]).includes(p));
        if (bad.length) throw new Error(`unknown part ${bad.join(', ')}; use ${PARTS.join(', ')}`);
        break;
      }
      case '--no-profile':
        o.profile = false;
        break;
      case '--no-dtls':
        o.dtls = false;
        break;
      case '--out':
        o.out = path.resolve(v());
        break;
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}\n${HELP}`);
    }
  }
  return o;
}

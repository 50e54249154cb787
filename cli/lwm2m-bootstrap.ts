/**
 * `lwm2m-bootstrap`: the package's command line. One command so far:
 *
 *   lwm2m-bootstrap factory --devices devices.csv --bootstrap-uri coaps://bs.example.net:5684 \
 *       [--format senml-cbor[,json,...]|all] [--out DIR] [--mode bootstrap|dm] [--profiles profiles.json]
 *       [--profile NAME] [--key-bytes 16] [--hold-off S] [--sec-tag N] [--key-column endpoint]
 *       [--identity-column pskIdentity] [--psk-column pskKey] [--no-write-back]
 *
 * writes one file per device and format into DIR (default ./factory), mode 0600, and the keys it generated
 * into the device table. Exit status: 0 done, 1 some rows failed or the export failed, 2 bad usage.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { FACTORY_FILES_WARNING, FACTORY_FORMATS, runFactoryExport } from '../lib/factory';
import type { BootstrapProfile } from '../lib/profile';
import { parseProfiles } from '../lib/profile';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
}

const USAGE = `usage: lwm2m-bootstrap factory --devices FILE --bootstrap-uri URI [options]

  --devices FILE          device table, CSV or JSON (columns endpoint, pskIdentity, pskKey, profile, imei, iccid, ...)
  --bootstrap-uri URI     Bootstrap-Server URI written into the devices (coaps:// = PSK, coap:// = NoSec)
  --format LIST           ${FACTORY_FORMATS.map((f) => f.name).join(', ')} or all (default all)
  --out DIR               where the files go (default ./factory); one file per device and format
  --mode bootstrap|dm     factory-to-bootstrap (the Bootstrap-Server account only, default) or
                          factory-to-DM (the profile's LwM2M Server accounts as well: no bootstrap needed)
  --profiles FILE         profiles (JSON array, as in the bootstrap-profiles node); needed for --mode dm
  --profile NAME          profile for rows whose profile column is empty
  --key-bytes N           length of generated PSKs, 16..64 (default 16; a profile's templates.pskKeyBytes wins)
  --hold-off S            Client Hold Off Time /0/x/11, seconds (default 0)
  --sec-tag N             nRF91 security tag (default 1111 bootstrap, 1112 dm)
  --key-column C          the table's key column (default endpoint)
  --identity-column C     PSK identity column (default pskIdentity)
  --psk-column C          PSK column, hex (default pskKey)
  --no-write-back         do not write generated keys into the device table (the Bootstrap-Server will not know them)
`;

class UsageError extends Error {}

const VALUED = new Set(['devices', 'bootstrap-uri', 'format', 'out', 'mode', 'profiles', 'profile', 'key-bytes', 'hold-off', 'sec-tag', 'key-column', 'identity-column', 'psk-column']);

function parseArgs(argv: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : '';
    if (!name) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    if (name === 'no-write-back' || name === 'help') {
      m.set(name, ['']);
      continue;
    }
    if (!VALUED.has(name)) throw new UsageError(`unknown option --${name}`);
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`--${name} needs a value`);
    m.set(name, [...(m.get(name) ?? []), v]);
  }
  return m;
}

function intArg(m: Map<string, string[]>, name: string): number | undefined {
  const v = m.get(name)?.[0];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

async function factory(argv: string[], io: Io): Promise<number> {
  const m = parseArgs(argv);
  if (m.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const one = (n: string) => m.get(n)?.[m.get(n)!.length - 1];
  const devices = one('devices');
  const uri = one('bootstrap-uri');
  if (!devices) throw new UsageError('--devices is required');
  if (!uri) throw new UsageError('--bootstrap-uri is required');
  const mode = one('mode') ?? 'bootstrap';
  if (mode !== 'bootstrap' && mode !== 'dm') throw new UsageError('--mode is bootstrap or dm');
  let profiles: Map<string, BootstrapProfile> | undefined;
  const pf = one('profiles');
  if (pf) {
    const parsed = parseProfiles(await fsp.readFile(path.resolve(io.cwd, pf), 'utf8'));
    if (parsed.issues.length) throw new UsageError(`${pf}: ${parsed.issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('; ')}`);
    profiles = new Map([...parsed.profiles].map(([k, v]) => [k, v.raw as unknown as BootstrapProfile]));
  }
  const out = path.resolve(io.cwd, one('out') ?? 'factory');
  const r = await runFactoryExport({
    devicesFile: path.resolve(io.cwd, devices),
    bootstrapUri: uri,
    outDir: out,
    mode,
    formats: (m.get('format') ?? ['all']).join(','),
    profiles,
    defaultProfile: one('profile'),
    keyBytes: intArg(m, 'key-bytes'),
    holdOffSec: intArg(m, 'hold-off'),
    secTag: intArg(m, 'sec-tag'),
    keyColumn: one('key-column'),
    identityColumn: one('identity-column'),
    pskColumn: one('psk-column'),
    writeBack: !m.has('no-write-back'),
    env: (name) => process.env[name],
  });
  for (const f of r.files) io.out(`${path.relative(io.cwd, f) || f}\n`);
  io.err(`warning: ${FACTORY_FILES_WARNING}\n`);
  if (r.generated.length) {
    io.err(m.has('no-write-back')
      ? `warning: keys generated for ${r.generated.length} device(s) and NOT written to ${devices}: the Bootstrap-Server does not know them\n`
      : `keys generated for ${r.generated.length} device(s) and written to ${devices}\n`);
  }
  for (const e of r.errors) io.err(`error: ${e.message}\n`);
  io.err(`${r.devices} device(s), ${r.files.length} file(s) in ${out}\n`);
  return r.errors.length ? 1 : 0;
}

/** Runs the command line; resolves with the exit status. Never prints a key except into the files. */
export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), cwd: process.cwd() }): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'factory') return await factory(rest, io);
    if (cmd === undefined || cmd === '--help' || cmd === 'help') {
      io.out(USAGE);
      return cmd === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`lwm2m-bootstrap: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`lwm2m-bootstrap: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Independent DTLS peers for interop tests: the openssl command line and libcoap's coap-client builds. */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Skips the current test when `name` is missing, saying so in the output. Under CI (CI=true), which installs
 * these binaries in .ci/run, a missing one fails the test instead: a skip there would hide lost interop.
 */
export function requireBinary(ctx: Mocha.Context, name: string): void {
  if (hasBinary(name)) return;
  const pkg = name.startsWith('coap') ? 'libcoap3-bin' : 'openssl';
  if (process.env.CI) throw new Error(`${name} is not installed; .ci/run installs it (apt-get install ${pkg})`);
  console.log(`      skipped: ${name} is not installed (apt-get install ${pkg})`);
  ctx.skip();
}

export interface CertSet {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
}

/** A CA, a server certificate (CN=localhost), a client certificate (CN and SAN URI urn:dev:cert1), and one from another CA. */
export function makeCerts(): CertSet {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtls-certs-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (n: string) => ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${n}.key`));
  const ca = (n: string, cn: string) => {
    key(n);
    ssl('req', '-x509', '-new', '-key', f(`${n}.key`), '-subj', `/CN=${cn}`, '-days', '2', '-out', f(`${n}.pem`));
  };
  const leaf = (n: string, subj: string, san: string, caName: string) => {
    key(n);
    ssl('req', '-new', '-key', f(`${n}.key`), '-subj', subj, '-out', f(`${n}.csr`));
    fs.writeFileSync(f(`${n}.ext`), `subjectAltName=${san}\n`);
    ssl('x509', '-req', '-in', f(`${n}.csr`), '-CA', f(`${caName}.pem`), '-CAkey', f(`${caName}.key`), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${n}.ext`), '-out', f(`${n}.pem`));
  };
  ca('ca', 'Test CA');
  ca('rogue-ca', 'Rogue CA');
  leaf('server', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1', 'ca');
  leaf('client', '/O=Acme/CN=urn:dev:cert1', 'URI:urn:dev:cert1', 'ca');
  leaf('rogue', '/CN=urn:dev:rogue', 'URI:urn:dev:rogue', 'rogue-ca');
  return {
    dir,
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    rogueCert: f('rogue.pem'),
    rogueKey: f('rogue.key'),
  };
}

export interface Running {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the output once it matches, rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  exited(ms?: number): Promise<number | null>;
  stop(): void;
}

export function run(cmd: string, args: string[]): Running {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  proc.on('error', (err) => (out += `\nspawn error: ${err.message}`));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    waitFor: async (re, ms = 5000) => {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`${cmd}: no ${re} in output:\n${out}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return out;
    },
    exited: (ms = 5000) =>
      Promise.race([exit, new Promise<number | null>((_, reject) => setTimeout(() => reject(new Error(`${cmd} did not exit:\n${out}`)), ms))]),
    stop: () => {
      if (proc.exitCode === null && proc.pid !== undefined) proc.kill('SIGTERM');
    },
  };
}

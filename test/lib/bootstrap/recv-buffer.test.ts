/** The receive buffer of the server's UDP socket: grown for storms (best effort), or left as the system has it. */
import { strict as assert } from 'node:assert';
import * as fs from 'fs';
import { BootstrapServer, type Logger } from '../../../lib/bootstrap';

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, logger: { debug: push, info: push, warn: push, error: push } };
}

function sysctl(name: string): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

describe('BootstrapServer receive buffer', () => {
  it('asks for 4 MiB on the socket it creates and gets more than the default where the system allows it', async () => {
    const { logger, lines } = capture();
    const server = new BootstrapServer({ port: 0, address: '127.0.0.1', logger });
    await server.listen();
    await server.close();
    const line = lines.find((l) => l.includes('receive buffer'));
    assert.ok(line, `a debug line about the receive buffer: ${JSON.stringify(lines)}`);
    const m = /receive buffer (\d+) bytes \(asked for 4194304\)/.exec(line as string);
    assert.ok(m, line);
    const max = sysctl('rmem_max');
    const def = sysctl('rmem_default');
    if (max !== undefined && def !== undefined && max > def) assert.ok(Number(m[1]) > def, `${m[1]} > ${def}`);
  });

  it('leaves the buffer alone with recvBufferSize 0', async () => {
    const { logger, lines } = capture();
    const server = new BootstrapServer({ port: 0, address: '127.0.0.1', logger, recvBufferSize: 0 });
    await server.listen();
    await server.close();
    assert.deepEqual(lines.filter((l) => l.includes('receive buffer')), []);
  });
});

/** A temporary PostgreSQL cluster for tests (scripts/pg-temp.js), on a free TCP port of loopback. */
import * as net from 'net';
import * as path from 'path';

export interface TempPostgres {
  url: string;
  stop(): void;
  pause(): void;
  resume(): void;
}

export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startPostgres(): Promise<TempPostgres> {
  // dist/test/support -> the package root's scripts/
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startTempPostgres } = require(path.resolve(__dirname, '..', '..', '..', 'scripts', 'pg-temp.js')) as {
    startTempPostgres(o: { port: number }): Promise<TempPostgres>;
  };
  return startTempPostgres({ port: await freeTcpPort() });
}

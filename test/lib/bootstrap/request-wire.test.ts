import { strict as assert } from 'node:assert';
import {
  BootstrapDiscoverRequest,
  BootstrapWriteRequest,
  type BootstrapServer,
  type BootstrapSession,
} from '../../../lib/bootstrap';
import { LwM2mPath } from '../../../lib/model';
import type { LwM2mNode } from '../../../lib/model';
import { ScriptedDevice } from '../../support/scripted-device';
import { startServer } from './helpers';

/** The session makes a request's options once per request object; what a device receives must follow the request. */
describe('bootstrap session: the same request object sent again', () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;

  beforeEach(async () => {
    ({ server, port } = await startServer({ requestTimeoutMs: 500, coap: { ackTimeout: 0.05 } }));
    dev = await ScriptedDevice.create();
  });
  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  function session(): Promise<BootstrapSession> {
    return new Promise((resolve) => server.once('bootstrapRequest', (s: BootstrapSession) => void s.accept().then(() => resolve(s))));
  }

  it('carries the same options and records the same step each time, and follows a request changed in between', async () => {
    const next = session();
    await dev.bootstrapRequest({ port }, { ep: 'wire-1' });
    const s = await next;
    const discover = new BootstrapDiscoverRequest('/');
    const node: LwM2mNode = { kind: 'single', id: 1, value: 600 } as unknown as LwM2mNode;
    const write = new BootstrapWriteRequest(new LwM2mPath(1, 0, 1), node, 11542);
    await s.send(discover);
    await s.send(discover);
    await s.send(write);
    await s.send(write);
    // Readonly to TypeScript only: a caller may still change a request between sends.
    (write as unknown as { contentFormat: number }).contentFormat = 112;
    (write as unknown as { path: LwM2mPath }).path = new LwM2mPath(1, 1, 1);
    await s.send(write);
    assert.deepEqual(
      dev.received.map((r) => `${r.method} ${r.path} ${r.accept ?? ''} ${r.contentFormat ?? ''}`),
      ['GET / 40 ', 'GET / 40 ', 'PUT /1/0/1  11542', 'PUT /1/0/1  11542', 'PUT /1/1/1  112'],
    );
    assert.deepEqual(
      s.stepsSince(0).map((x) => `${x.op} ${x.path} ${x.contentFormat ?? ''}`),
      ['discover / 40', 'discover / 40', 'write /1/0/1 11542', 'write /1/0/1 11542', 'write /1/1/1 112'],
    );
  });
});

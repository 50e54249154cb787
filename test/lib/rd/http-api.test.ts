/**
 * The demo DM server's HTTP control interface: a flow's http request node sends a registered device back to
 * bootstrap (Execute /1/x/9, Bootstrap-Request Trigger); unknown devices and bad paths get clear answers.
 */
import assert from 'node:assert/strict';
import * as http from 'http';
import { BootstrapServer, runBootstrap } from '../../../lib/bootstrap';
import { validatedProfile } from '../../../lib/profile/validated';
import { SimulatedClient } from '../../../lib/client/client';
import { controlApiPort, RegistrationServer, startRdControlApi, type Registration } from '../../../lib/rd';
import { FAST, waitFor } from '../client/support/fixtures';

function post(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('demo DM server control API', () => {
  it('executes the Bootstrap-Request Trigger on a registered device, which bootstraps again; unknown devices get 404, bad paths 400', async () => {
    const rd = await new RegistrationServer().listen();
    const bs = new BootstrapServer({ port: 0, address: '127.0.0.1', requestTimeoutMs: 2000 });
    const bsPort = (await bs.listen()).port;
    const api = await startRdControlApi(rd);
    const c = new SimulatedClient({ endpoint: 'api-dev', bootstrapServer: { uri: `coap://127.0.0.1:${bsPort}` }, timing: FAST });
    try {
      let bootstraps = 0;
      bs.on('bootstrapRequest', (s) => {
        bootstraps++;
        void runBootstrap(s, validatedProfile({ servers: [{ shortServerId: 4, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 60 }] }))
          .then(() => s.finish())
          .catch(() => undefined);
      });
      const first = waitFor<Registration>(rd, 'registered');
      await c.start();
      await first;
      const port = controlApiPort(api);
      assert.equal((await post(port, '/api/clients/nobody/bootstrap-trigger')).status, 404);
      assert.equal((await post(port, '/api/clients/api-dev/1/x/9')).status, 400);
      const again = waitFor<Registration>(rd, 'registered');
      const r = await post(port, '/api/clients/api-dev/bootstrap-trigger');
      assert.equal(r.status, 200);
      assert.equal(r.body.code, '2.04');
      assert.match(String(r.body.path), /^\/1\/\d+\/9$/);
      await again;
      assert.equal(bootstraps, 2, 'the trigger made the device bootstrap a second time');
    } finally {
      await c.stop();
      await new Promise<void>((r) => api.close(() => r()));
      await bs.close();
      await rd.close();
    }
  });
});

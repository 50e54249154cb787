/** The one timer of a session: the decision deadline no longer applies once accepted; the session deadline does. */
import { strict as assert } from 'node:assert';
import { BootstrapServer, SessionOutcome, type BootstrapSession } from '../../../lib/bootstrap';
import { ScriptedDevice } from '../../support/scripted-device';
import { markAfter } from '../../support/timer-mark';
import { sleep, startServer } from './helpers';

function nextSession(server: BootstrapServer): Promise<BootstrapSession> {
  return new Promise((resolve) => server.once('bootstrapRequest', resolve));
}

describe('BootstrapSession deadlines', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });

  it('an accepted session outlives the decision deadline and ends at the session deadline', async () => {
    const { server, port } = await startServer({ decisionTimeoutMs: 100, sessionTimeoutMs: 600 });
    cleanups.push(() => server.close());
    const dev = await ScriptedDevice.create();
    cleanups.push(() => dev.close());
    const sp = nextSession(server);
    server.once('bootstrapRequest', (s) => void s.accept());
    const sessionDeadlineNear = markAfter(500); // before the session's 600 ms timer, long after the 100 ms decision timer
    await dev.bootstrapRequest({ port }, { ep: 'accepted-early' });
    const s = await sp;
    await sleep(250);
    assert.equal(s.state, 'accepted', 'past the decision deadline, still going');
    const outcome = await new Promise<SessionOutcome>((resolve) => s.once('ended', resolve));
    assert.equal(outcome, SessionOutcome.TIMEOUT);
    assert.match(s.detail ?? '', /600 ms/);
    assert.ok(sessionDeadlineNear.fired, 'ended by the 600 ms session timer, not earlier');
  });

  it('a session starts without a listener table and its events work as an EventEmitter\'s', async () => {
    const { server, port } = await startServer({ decisionTimeoutMs: 100 });
    cleanups.push(() => server.close());
    const dev = await ScriptedDevice.create();
    cleanups.push(() => dev.close());
    const sp = nextSession(server);
    void dev.bootstrapRequest({ port }, { ep: 'events' }).catch(() => undefined);
    const s = await sp;
    assert.equal(s.listenerCount('ended'), 0);
    assert.deepEqual(s.eventNames(), []);
    assert.equal(s.emit('nothing'), false);
    const never = () => assert.fail('removed listener called');
    s.on('ended', never);
    s.removeListener('ended', never);
    const ended = new Promise<SessionOutcome>((resolve) => s.once('ended', resolve));
    assert.equal(s.listenerCount('ended'), 1);
    assert.equal(await ended, SessionOutcome.TIMEOUT);
    assert.equal(s.listenerCount('ended'), 0);
  });
});

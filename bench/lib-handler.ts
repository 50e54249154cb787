/**
 * What the demo flow does per Bootstrap-Request, in plain code on the library: device-table row ->
 * profile with the device's values filled in and validated -> runBootstrap -> Bootstrap-Finish.
 * Used by the library-only baselines (plain CoAP and DTLS).
 */
import { runBootstrap, SessionOutcome, type BootstrapServer, type BootstrapSession } from '../lib/bootstrap';
import { applyTemplate, freezeTemplate, type BootstrapProfile } from '../lib/profile';
import { benchProfile } from './scenario';

export function handleBootstraps(server: BootstrapServer, table: Map<string, Record<string, string>>, dmPort: number): Map<string, number> {
  // Frozen, as the profiles config node freezes its stored profiles at deploy: profile lookup then reads the
  // template's text once, not once per bootstrap (lib/profile/template-memo.ts).
  const profile = freezeTemplate(benchProfile(dmPort)) as unknown as BootstrapProfile;
  const errors = new Map<string, number>();
  const count = (k: string): void => void errors.set(k, (errors.get(k) ?? 0) + 1);

  async function bootstrap(session: BootstrapSession): Promise<void> {
    const row = table.get(session.endpoint);
    if (!row) {
      await session.reject('4.04', 'unknown device');
      return;
    }
    const p = applyTemplate(profile, { apn: row.apn });
    const r = await runBootstrap(session, p, { stopOnError: true });
    if (!r.ok) {
      count('step-failed');
      session.end(SessionOutcome.REQUEST_FAILED, 'a bootstrap step failed');
      return;
    }
    await session.finish();
  }

  server.on('bootstrapRequest', (session: BootstrapSession) => {
    void bootstrap(session).catch((err: unknown) => {
      count(err instanceof Error ? err.name : 'error');
      if (session.state === 'pending') void session.reject('5.00', 'bootstrap failed').catch(() => undefined);
      else session.end(SessionOutcome.INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
    });
  });
  return errors;
}

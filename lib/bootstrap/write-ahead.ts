/**
 * The write-ahead hook of Bootstrap-Finish (issue 16). Once a device has answered Bootstrap-Finish 2.04 it
 * considers itself bootstrapped and does not come back (OMA-TS-LightweightM2M_Core, Bootstrap Interface,
 * Bootstrap-Finish); an instance that dies after that moment, with the session's audit record still in
 * memory, loses the only record of that bootstrap. The hook lets an audit store make the verdict durable
 * BEFORE Finish leaves (a row "Finish sent, answer not recorded yet"), which the session's final record then
 * replaces.
 *
 * The wait is bounded: a store that is slow or down must never hold bootstraps up. After `timeoutMs` (or at
 * once when the hook fails) Finish goes out anyway; the store counts that itself.
 */
import type { AuditRecord } from './audit';

/** Resolves when the record is durable (true) or the store gave up (false). Should not reject. */
export type BeforeFinishHook = (record: AuditRecord) => Promise<boolean | void>;

/** Default bound of the wait, ms: a few database round trips, well under a CoAP retransmission (2-3 s). */
export const DEFAULT_BEFORE_FINISH_MS = 500;

/** Runs the hook on `record`; resolves after it settles or after `timeoutMs`, whichever is first. Never rejects. */
export function runBeforeFinish(hook: BeforeFinishHook, record: AuditRecord, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref?.();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(hook(record));
    } catch {
      return done();
    }
    p.then(done, done);
  });
}

/**
 * Tests that need what this machine lacks (raw public keys need OpenSSL 3.2, which Node 20 does not ship)
 * are registered as pending, not left out: the run lists them with the reason in their describe title, and
 * a CI step on a machine that has the capability can count that they ran (scripts/compat-check.sh).
 */

type TestFn = (this: Mocha.Context) => void | PromiseLike<unknown>;

/** `it` where `available`; elsewhere the same title without a body, which mocha reports as pending. */
export function itWhere(available: boolean): (title: string, fn: TestFn) => Mocha.Test {
  return available ? (title, fn) => it(title, fn as Mocha.AsyncFunc) : (title) => it(title);
}

/** A describe title that says why its tests are pending here. */
export function titleWhere(available: boolean, title: string, reason: string | undefined): string {
  return available ? title : `${title} [pending here: ${reason ?? 'not available'}]`;
}

/** True for the library's "no answer in time" errors: a request timeout, or a session that ended TIMEOUT. */
export function isTimeout(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const x = e as Error & { code?: unknown; outcome?: unknown };
  return x.code === 'REQUEST_TIMEOUT' || x.outcome === 'TIMEOUT';
}

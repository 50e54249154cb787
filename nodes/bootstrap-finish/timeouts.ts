/** True for the library's "no answer in time" errors (request timeout, session timeout). */
export function isTimeout(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as Error & { code?: unknown }).code;
  return code === 'TIMEOUT' || code === 'REQUEST_TIMEOUT' || /timeout/i.test(e.name);
}

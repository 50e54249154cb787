/** Base64 for SenML `vd` and text payloads: base64url without padding out, any RFC 4648 form in. */

export function toBase64Url(b: Buffer): string {
  return b.toString('base64url');
}

/** Decodes standard or URL-safe base64, padded or not; undefined for anything else. */
export function fromBase64Lenient(s: string): Buffer | undefined {
  const m = /^([A-Za-z0-9+/\-_]*)(={0,2})$/.exec(s);
  if (!m) return undefined;
  const body = m[1];
  if (body.length % 4 === 1) return undefined;
  if (m[2] && (body.length + m[2].length) % 4 !== 0) return undefined;
  if (/[+/]/.test(body) && /[-_]/.test(body)) return undefined;
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

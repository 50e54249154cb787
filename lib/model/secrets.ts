/**
 * Which resources hold secrets, so traces, audit records and logs can mask them. The rule is deliberately
 * wide: a value that could let someone impersonate the device or a server is a secret.
 */

/** The masked form of a secret value. */
export const MASK = '***';

/** Secret resources by object id. */
export const SECRET_RESOURCES: Readonly<Record<number, readonly number[]>> = Object.freeze({
  /** Security: 5 Secret Key (PSK or private key), 8 SMS Binding Secret Key(s). */
  0: [5, 8],
  /** APN Connection Profile: 6 Secret (PAP/CHAP password). */
  11: [6],
  /** OSCORE: 0 Master Secret. */
  21: [0],
});

/** True when `/objectId/x/resourceId` holds a secret. */
export function isSecretResource(objectId: number, resourceId: number): boolean {
  return SECRET_RESOURCES[objectId]?.includes(resourceId) ?? false;
}

/**
 * Endpoint/identity binding (anti-spoofing): does the endpoint name a device asks for (`ep`) belong to the
 * identity it authenticated with in the DTLS handshake? Without this check any device holding valid
 * credentials could ask for another device's configuration by naming its endpoint.
 *
 * "Belongs" means one of:
 *  - the endpoint equals the PSK identity, or the certificate's id (its CN, else first SAN, else subject);
 *  - the endpoint equals one of the certificate's subjectAltNames (DNS or URI);
 *  - the operator's store names the endpoint for that identity (e.g. the `endpoint` column of the device
 *    table row found by the identity), passed in as `boundEndpoints`.
 * No identity (plain CoAP, or a certificate suite without a client certificate) never belongs.
 * Pure: no I/O, no Node-RED, no keys.
 */

/** What the rule needs of an identity: its type and id, and for certificates the subjectAltNames. */
export interface BindingIdentity {
  type: string;
  id: string;
  san?: readonly string[];
}

export type BindingResult =
  | { ok: true; by: 'identity' | 'san' | 'store' }
  | { ok: false; reason: 'no-identity' | 'not-bound' };

export function checkEndpointBinding(
  endpoint: string,
  identity: BindingIdentity | undefined,
  boundEndpoints?: readonly string[],
): BindingResult {
  if (!identity || typeof identity.id !== 'string' || identity.id === '') return { ok: false, reason: 'no-identity' };
  if (endpoint === identity.id) return { ok: true, by: 'identity' };
  if (identity.type === 'x509' && identity.san?.includes(endpoint)) return { ok: true, by: 'san' };
  if (boundEndpoints?.includes(endpoint)) return { ok: true, by: 'store' };
  return { ok: false, reason: 'not-bound' };
}

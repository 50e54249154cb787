/** The listener's editor fields -> ListenerSettings, or the name of the error to report. No secrets here. */
import type { NodeDef } from 'node-red';
import { DTLS_DEFAULTS } from '../shared/dtls';
import { intOr, isUnset, stringOr } from '../shared/env';
import { readProxyFrom } from './proxy-protocol';
import { DEFAULT_PORT, type ListenerSettings, type Transport } from './transport';

export interface ListenerDef extends NodeDef {
  transport: string;
  address: string;
  port: string;
  decisionTimeout: string;
  decisionCode: string;
  packTimeout: string;
  packCode: string;
  requestTimeout: string;
  sessionTimeout: string;
  maxSessions: string;
  maxPendingPerSource?: string;
  maxEndpointBytes?: string;
  // CoAPs
  pskTable?: string;
  tableIdentityColumn?: string;
  tableKeyColumn?: string;
  tableEndpointColumn?: string;
  tableRpkColumn?: string;
  rpk?: string;
  rpkKeys?: string;
  cert?: string;
  ca?: string;
  maxPeers?: string;
  handshakeTimeout?: string;
  idleTimeout?: string;
  handshakeRate?: string;
  maxHalfOpenPerSource?: string;
  halfOpenTimeout?: string;
  bindingCheck?: string | boolean;
  bindingCode?: string;
  /** An lwm2m-postgres config node: PSKs from its devices (coaps) and the audit into its database. */
  postgres?: string;
  /** Balancer addresses allowed to send a PROXY protocol header (proxy-protocol.ts); empty: off. */
  proxyFrom?: string;
}

/** lib/dtls's defaults, in the units of the dialog (the dialog's defaults are the same numbers). */
export const COAPS_DEFAULTS = {
  maxPeers: DTLS_DEFAULTS.maxPeers,
  handshakeTimeoutS: DTLS_DEFAULTS.handshakeTimeoutMs / 1000,
  idleTimeoutS: DTLS_DEFAULTS.idleTimeoutMs / 1000,
  handshakeRate: DTLS_DEFAULTS.handshakesPerSourcePerSecond,
  maxHalfOpenPerSource: DTLS_DEFAULTS.maxHalfOpenPerSource,
  halfOpenTimeoutS: DTLS_DEFAULTS.halfOpenTimeoutMs / 1000,
} as const;

/** The fairness limits of every listener (the dialog's defaults are the same numbers). */
export const LIMIT_DEFAULTS = { maxPendingPerSource: 100, maxEndpointBytes: 255 } as const;

const CODE = /^[45]\.\d\d$/;

/** Settings from the editor fields, or the name of the error (errors.<name>) that says what is wrong. */
export function readSettings(c: ListenerDef): ListenerSettings | string {
  const transport: Transport | undefined = c.transport === 'coap' || !c.transport ? 'coap' : c.transport === 'coaps' ? 'coaps' : undefined;
  if (!transport) return 'badTransport';
  const port = intOr(c.port, DEFAULT_PORT[transport], 0, 65535);
  if (port === undefined) return 'badPort';
  const seconds = (v: string | undefined, def: number, max: number) => intOr(v, def, 1, max);
  const decision = seconds(c.decisionTimeout, 10, 3600);
  const pack = seconds(c.packTimeout, 5, 3600);
  const request = seconds(c.requestTimeout, 30, 3600);
  const session = seconds(c.sessionTimeout, 90, 86400);
  if (decision === undefined || pack === undefined || request === undefined || session === undefined) return 'badTimeout';
  const maxSessions = intOr(c.maxSessions, 10000, 1, 1000000);
  if (maxSessions === undefined) return 'badMaxSessions';
  const maxPendingPerSource = intOr(c.maxPendingPerSource, LIMIT_DEFAULTS.maxPendingPerSource, 1, 1000000);
  if (maxPendingPerSource === undefined) return 'badMaxPendingPerSource';
  const maxEndpointBytes = intOr(c.maxEndpointBytes, LIMIT_DEFAULTS.maxEndpointBytes, 1, 1024);
  if (maxEndpointBytes === undefined) return 'badMaxEndpointBytes';
  const decisionCode = stringOr(c.decisionCode, '5.03');
  const packCode = stringOr(c.packCode, '4.04');
  if (!CODE.test(decisionCode) || !CODE.test(packCode)) return 'badCode';
  const proxyFrom = readProxyFrom(c.proxyFrom);
  if (!proxyFrom) return 'badProxyFrom';
  const settings: ListenerSettings = {
    transport,
    address: stringOr(c.address, '0.0.0.0'),
    port,
    decisionTimeoutMs: decision * 1000,
    decisionTimeoutCode: decisionCode,
    packResponseTimeoutMs: pack * 1000,
    packDefaultCode: packCode,
    requestTimeoutMs: request * 1000,
    sessionTimeoutMs: session * 1000,
    maxSessions,
    maxPendingPerSource,
    maxEndpointBytes,
  };
  if (proxyFrom.length > 0) settings.proxyProtocolFrom = proxyFrom;
  if (transport === 'coaps') {
    const maxPeers = intOr(c.maxPeers, COAPS_DEFAULTS.maxPeers, 1, 1000000);
    if (maxPeers === undefined) return 'badMaxPeers';
    const handshakeRate = intOr(c.handshakeRate, COAPS_DEFAULTS.handshakeRate, 1, 1000000);
    if (handshakeRate === undefined) return 'badHandshakeRate';
    const maxHalfOpenPerSource = intOr(c.maxHalfOpenPerSource, COAPS_DEFAULTS.maxHalfOpenPerSource, 1, 1000000);
    if (maxHalfOpenPerSource === undefined) return 'badMaxHalfOpenPerSource';
    const halfOpen = seconds(c.halfOpenTimeout, COAPS_DEFAULTS.halfOpenTimeoutS, 3600);
    const hs = seconds(c.handshakeTimeout, COAPS_DEFAULTS.handshakeTimeoutS, 3600);
    const idle = seconds(c.idleTimeout, COAPS_DEFAULTS.idleTimeoutS, 86400);
    if (hs === undefined || idle === undefined || halfOpen === undefined) return 'badTimeout';
    const bindingCode = stringOr(c.bindingCode, '4.03');
    if (!CODE.test(bindingCode)) return 'badCode';
    const pem = (v: unknown) => (isUnset(v) ? undefined : String(v).trim());
    const table = isUnset(c.pskTable)
      ? undefined
      : {
          id: String(c.pskTable),
          identityColumn: stringOr(c.tableIdentityColumn, 'pskIdentity'),
          keyColumn: stringOr(c.tableKeyColumn, 'pskKey'),
          endpointColumn: stringOr(c.tableEndpointColumn, 'endpoint'),
        };
    const rpk = c.rpk === 'on' ? { keys: typeof c.rpkKeys === 'string' ? c.rpkKeys : '', tableColumn: stringOr(c.tableRpkColumn, 'rpkPublicKey') } : undefined;
    settings.coaps = {
      rpk,
      cert: pem(c.cert),
      ca: pem(c.ca),
      limits: {
        maxPeers,
        handshakeTimeoutMs: hs * 1000,
        idleTimeoutMs: idle * 1000,
        handshakesPerSourcePerSecond: handshakeRate,
        maxHalfOpenPerSource,
        halfOpenTimeoutMs: halfOpen * 1000,
      },
      bindingCheck: !(c.bindingCheck === false || c.bindingCheck === 'off' || c.bindingCheck === 'false'),
      bindingCode,
      table,
    };
  }
  return settings;
}

/** The Bootstrap-Server protocol core: server, sessions, requests, outcomes, timing parameters, runner. */
export * from './requests';
export * from './outcome';
export * from './errors';
export * from './parameters';
export type { AuditRecord, AuditStep, AuditKind, StepOp, Peer, PeerIdentity } from './audit';
export { safeText, MAX_DIAGNOSTIC_CHARS } from './audit';
export type { DiscoverInfo } from './codec-port';
export type { DatagramSocket, PeerInfo } from './coap/message';
export { BootstrapServer } from './server';
export type { BootstrapServerOptions, BootstrapServerStats, BootstrapServerEvents, Logger } from './server';
export { BootstrapSession } from './session';
export type { SessionState, SendResult, SendOptions, SessionKind } from './session';
export type { ServerInitiatedOptions } from './server';
export { BootstrapPackRequest } from './pack';
export { ALLOWED_PCT } from './inbound';
export { runBootstrap } from './runner';
export { keylessWrite, NOSEC_KEY_RESOURCES, KEYLESS_RETRY_CODES } from './nosec-keys';
export type { RunBootstrapOptions, RunBootstrapResult, RunStep } from './runner';
export { DEFAULT_BEFORE_FINISH_MS } from './write-ahead';
export {
  ProxyAddressTable,
  ProxyHeaderError,
  ProxyProtocolOptionError,
  ProxyProtocolSocket,
  looksLikeProxyHeader,
  parseProxyHeader,
} from './coap/proxy-protocol';
export type { ProxyHeader, ProxyProtocolOptions, ProxyProtocolStats, ProxySource } from './coap/proxy-protocol';
export type { BeforeFinishHook } from './write-ahead';

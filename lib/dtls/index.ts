/** DTLS 1.2 server transport (CoAPs) over the OpenSSL inside Node. */
export { loadDtls, type DtlsLoadResult, type DtlsBinding } from './binding';
export { dtlsCapabilities, rpkCapability, type DtlsCapabilities, type Capability } from './capabilities';
export { CIPHER_SUITES, DEFAULT_CIPHER_SUITES, type CipherSuite } from './ciphers';
export { DTLS_DEFAULTS } from './config';
export type { PeerEvent, EngineLimits as DtlsLimits } from './engine';
export { checkEndpointBinding, type BindingIdentity, type BindingResult } from './endpoint-binding';
export { DtlsError, DtlsUnavailableError } from './errors';
export { MemoryPskStore } from './psk-store';
export { MemoryRpkStore, parseRawPublicKey, rpkFingerprint } from './rpk';
export { DtlsSocket, createDtlsSocket } from './socket';
export type { DatagramTranslator } from './types';
export type {
  DtlsIdentity,
  DtlsLogger,
  DtlsPeerSummary,
  DtlsRemoteInfo,
  DtlsServerOptions,
  DtlsStats,
  PskStore,
  RpkStore,
} from './types';

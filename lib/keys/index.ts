/**
 * Keys of a CoAPs Bootstrap-Server: PSKs and trusted raw public keys from an operator's text, a device
 * table's columns, a DeviceSource or any other KeySource (source.ts: async lookups, a synchronous cache for
 * the handshake, prefetch on a miss), merged into the stores the DTLS handshake reads (lib/dtls PskStore and
 * RpkStore).
 */
export * from './psk';
export * from './rpk';
export * from './coaps';
export * from './source';

/**
 * Keys of a CoAPs Bootstrap-Server: PSKs and trusted raw public keys from an operator's text, a device
 * table's columns or a DeviceSource, merged into the synchronous stores the DTLS handshake reads
 * (lib/dtls PskStore and RpkStore).
 */
export * from './psk';
export * from './rpk';
export * from './coaps';

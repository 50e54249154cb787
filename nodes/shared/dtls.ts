/**
 * The DTLS (CoAPs) surface the nodes use, from the package's one entry point (lib/index.ts exports it as
 * the `dtls` namespace), the endpoint/identity binding rule included.
 */
import { dtls } from '../../lib';

export const createDtlsSocket = dtls.createDtlsSocket;
export const dtlsCapabilities = dtls.dtlsCapabilities;
export const loadDtls = dtls.loadDtls;
export const DTLS_DEFAULTS = dtls.DTLS_DEFAULTS;
export type DtlsSocket = dtls.DtlsSocket;
export type DtlsIdentity = dtls.DtlsIdentity;
export type DtlsPeerSummary = dtls.DtlsPeerSummary;
export type PskStore = dtls.PskStore;
export type RpkStore = dtls.RpkStore;
export const parseRawPublicKey = dtls.parseRawPublicKey;
export const rpkFingerprint = dtls.rpkFingerprint;
export const rpkCapability = dtls.rpkCapability;
export type PeerEvent = dtls.PeerEvent;
export const checkEndpointBinding = dtls.checkEndpointBinding;
export type BindingIdentity = dtls.BindingIdentity;
export type BindingResult = dtls.BindingResult;
export type DtlsLimits = dtls.DtlsLimits;

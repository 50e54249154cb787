/**
 * The DTLS (CoAPs) surface the nodes use, from the package's one entry point (lib/index.ts exports it as
 * the `dtls` namespace), plus the endpoint/identity binding rule.
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
export type PeerEvent = dtls.PeerEvent;
export { checkEndpointBinding, type BindingIdentity, type BindingResult } from '../../lib/dtls/endpoint-binding';

/** Errors of the DTLS transport. */
import { Lwm2mError } from '../errors';

/** A DTLS configuration or transport error. `reason` is the addon's or OpenSSL's own wording. */
export class DtlsError extends Lwm2mError {
  /** Finer code from the addon, e.g. 'DTLS_CIPHERS', 'DTLS_CERT', 'DTLS_KEY', 'DTLS_NO_SESSION'. */
  readonly dtlsCode: string;
  readonly peer: { address: string; port: number } | undefined;
  constructor(dtlsCode: string, message: string, peer?: { address: string; port: number }) {
    super('DTLS', message);
    this.dtlsCode = dtlsCode;
    this.peer = peer;
  }
}

/** The native addon could not be loaded: CoAP over plain UDP still works, CoAPs does not. */
export class DtlsUnavailableError extends Lwm2mError {
  readonly reason: string;
  constructor(reason: string) {
    super('DTLS_UNAVAILABLE', `DTLS is not available: ${reason}`);
    this.reason = reason;
  }
}

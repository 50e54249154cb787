/** Errors of the simulated client. Each carries the data a node needs for its status and message. */
import { Lwm2mError } from '../errors';

/** The device refuses a Bootstrap-Interface operation; `coapCode` is the response it answers, e.g. '4.00'. */
export class BootstrapRefusedError extends Lwm2mError {
  constructor(
    readonly coapCode: string,
    message: string,
  ) {
    super('BOOTSTRAP_REFUSED', message);
  }
}

/** The stored configuration is missing, unreadable or fails its checksum. */
export class StoreFileError extends Lwm2mError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super('STORE_FILE', `store ${file}: ${reason}`);
  }
}

/** A client option is invalid (bad URI, pattern, timing). */
export class ClientConfigError extends Lwm2mError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super('CLIENT_CONFIG', `${field}: ${reason}`);
  }
}

/** A CoAP exchange ended without an acceptable response (timeout, RST, socket error, error code). */
export class ExchangeError extends Lwm2mError {
  constructor(
    readonly operation: string,
    reason: string,
    readonly coapCode?: string,
  ) {
    super('EXCHANGE', `${operation}: ${reason}`);
  }
}

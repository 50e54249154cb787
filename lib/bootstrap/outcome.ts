/** How a Bootstrap-Server session ended. One enum for every way out (after Leshan's failure causes). */
export enum SessionOutcome {
  /** Bootstrap-Finish answered 2.04. */
  SUCCESS = 'SUCCESS',
  /** The device's identity did not match its endpoint name (answered 4.00/4.01/4.03 by the flow). */
  UNAUTHORIZED = 'UNAUTHORIZED',
  /** No bootstrap configuration for this endpoint. */
  NO_BOOTSTRAP_CONFIG = 'NO_BOOTSTRAP_CONFIG',
  /** The flow rejected the Bootstrap-Request for another reason. */
  REJECTED = 'REJECTED',
  /**
   * A downlink request got a Reset or could not be sent, or the device answered one with an error code
   * (4.00, 4.04, 5.00, ...) and the caller ended the session: `end(REQUEST_FAILED)` names the device's code.
   */
  REQUEST_FAILED = 'REQUEST_FAILED',
  /** Bootstrap-Finish answered with an error (4.06 with the client's diagnostic). */
  FINISH_FAILED = 'FINISH_FAILED',
  /** Replaced by a newer Bootstrap-Request from the same endpoint, or the server closed. */
  CANCELLED = 'CANCELLED',
  /** The session, a request, or the flow's decision took too long. */
  TIMEOUT = 'TIMEOUT',
  /** A bug or an unexpected local failure. */
  INTERNAL_ERROR = 'INTERNAL_ERROR',
}

/** Outcomes decided by the flow on the Bootstrap-Request (counted as "rejected" in server stats). */
export function isRejection(o: SessionOutcome): boolean {
  return o === SessionOutcome.REJECTED || o === SessionOutcome.UNAUTHORIZED || o === SessionOutcome.NO_BOOTSTRAP_CONFIG;
}

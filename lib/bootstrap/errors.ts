/** Errors of the bootstrap server and its sessions. Each carries the data a node needs to report it. */
import { Lwm2mError } from '../errors';
import type { SessionOutcome } from './outcome';
import { logQuoted } from '../log-text';

/** No live session has this id (it ended, or never existed). */
export class SessionNotFoundError extends Lwm2mError {
  readonly sessionId: string;
  constructor(sessionId: string) {
    super('SESSION_NOT_FOUND', `no live bootstrap session with id "${sessionId}" (it has ended or never existed)`);
    this.sessionId = sessionId;
  }
}

/** The session ended while (or before) an operation was asked of it. */
export class SessionEndedError extends Lwm2mError {
  readonly sessionId: string;
  readonly endpoint: string;
  readonly outcome: SessionOutcome | undefined;
  constructor(sessionId: string, endpoint: string, outcome: SessionOutcome | undefined) {
    // The message reaches logs (Node-RED logs what done(err) gets): the endpoint name escaped and cut.
    super('SESSION_ENDED', `bootstrap session of ${logQuoted(endpoint)} has ended (${outcome ?? 'unknown outcome'})`);
    this.sessionId = sessionId;
    this.endpoint = endpoint;
    this.outcome = outcome;
  }
}

/** An operation is not allowed in the session's current state (e.g. send() before accept()). */
export class SessionStateError extends Lwm2mError {
  readonly state: string;
  constructor(state: string, message: string) {
    super('SESSION_STATE', `${message} (session state: ${state})`);
    this.state = state;
  }
}

/** A downlink request got no response within its timeout. */
export class RequestTimeoutError extends Lwm2mError {
  readonly method: string;
  readonly path: string;
  readonly timeoutMs: number;
  constructor(method: string, path: string, timeoutMs: number) {
    super('REQUEST_TIMEOUT', `no response to ${method} ${path} within ${timeoutMs} ms`);
    this.method = method;
    this.path = path;
    this.timeoutMs = timeoutMs;
  }
}

/** A downlink request failed on the message layer: the device answered Reset, or the datagram could not be sent. */
export class RequestFailedError extends Lwm2mError {
  readonly method: string;
  readonly path: string;
  readonly reason: 'reset' | 'send' | 'closed';
  constructor(method: string, path: string, reason: 'reset' | 'send' | 'closed', detail?: string) {
    const what = reason === 'reset' ? 'the device answered Reset' : reason === 'send' ? 'could not send' : 'server closed';
    super('REQUEST_FAILED', `${method} ${path} failed: ${what}${detail ? ` (${detail})` : ''}`);
    this.method = method;
    this.path = path;
    this.reason = reason;
  }
}

/** A response code is not a valid CoAP response code text ("2.04", "4.00" ...). */
export class ResponseCodeError extends Lwm2mError {
  readonly input: string;
  constructor(input: string) {
    super('RESPONSE_CODE', `"${input}" is not a CoAP response code (c.dd with class 2, 4 or 5)`);
    this.input = input;
  }
}

/** The server cannot start (port in use, bad options) or was used after close(). */
export class ServerStateError extends Lwm2mError {
  constructor(message: string) {
    super('SERVER_STATE', message);
  }
}

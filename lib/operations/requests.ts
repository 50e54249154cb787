/**
 * One type per LwM2M Bootstrap operation the Bootstrap-Server sends to a client, named after the
 * specification (OMA-TS-LightweightM2M_Core, Bootstrap Interface). Constructors validate the target path, so
 * an invalid operation never reaches the wire. This layer sits below both lib/profile (which plans these
 * requests) and lib/bootstrap (which sends them); it imports only the model and the codec's format numbers.
 */
import { PathError } from '../errors';
import { LwM2mPath } from '../model/path';
import type { LwM2mNode } from '../model/types';
import { LINK_FORMAT } from '../codec/link-format';

/** The label of an operation in an audit step (a Bootstrap-Pack-Request is 'pack'). */
export type StepOp = 'write' | 'delete' | 'discover' | 'read' | 'finish' | 'pack';

export type BootstrapDownlinkRequest =
  | BootstrapDeleteRequest
  | BootstrapWriteRequest
  | BootstrapDiscoverRequest
  | BootstrapReadRequest
  | BootstrapFinishRequest;

/** The CoAP option that names a request's format: what a Write's payload is in, or what a Read/Discover asks for. */
export interface FormatOption {
  readonly name: 'Content-Format' | 'Accept';
  readonly format: number;
}

/**
 * What every downlink operation says of itself, so that the session sends and records it without asking which
 * one it is. Each class below implements it; the few places that still depend on the operation (its payload, the
 * reading of its answer: lib/bootstrap/result.ts) switch on `type` exhaustively, so a new class in
 * BootstrapDownlinkRequest does not compile until they handle it.
 */
export interface DownlinkOperation {
  readonly type: string;
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** The label of its audit step. */
  readonly op: StepOp;
  /** The success code it expects (2.02 delete, 2.04 write/finish, 2.05 discover/read). */
  readonly expectedCode: string;
  /** The target as recorded: '/1/0', '/' or '/bs'. */
  readonly target: string;
  /** Content-Format (a Write) or Accept (a Read, a Discover); none for Delete and Finish. */
  readonly formatOption: FormatOption | undefined;
  /** The Uri-Path option values. */
  uriPath(): string[];
}

function asPath(p: LwM2mPath | string): LwM2mPath {
  return typeof p === 'string' ? LwM2mPath.parse(p) : p;
}

/** An operation on an object path (all but Finish): its target and Uri-Path come from the path. */
abstract class PathRequest {
  readonly path: LwM2mPath;
  constructor(path: LwM2mPath | string) {
    this.path = asPath(path);
  }
  get target(): string {
    return this.path.toString();
  }
  uriPath(): string[] {
    return this.path.toSegments();
  }
}

/** DELETE `/`, `/O` or `/O/I`. Expected success: 2.02 Deleted. */
export class BootstrapDeleteRequest extends PathRequest implements DownlinkOperation {
  readonly type = 'BootstrapDeleteRequest' as const;
  readonly method = 'DELETE' as const;
  readonly op = 'delete' as const;
  readonly expectedCode = '2.02';
  readonly formatOption = undefined;
  constructor(path: LwM2mPath | string) {
    super(path);
    if (this.path.level === 'resource' || this.path.level === 'resourceInstance') {
      throw new PathError(this.path.toString(), 'Bootstrap-Delete targets /, /O or /O/I');
    }
  }
}

/**
 * PUT `/O`, `/O/I` or `/O/I/R` with a payload in `contentFormat`. The node is the typed instance tree
 * to write; the session encodes it. Expected success: 2.04 Changed.
 */
export class BootstrapWriteRequest extends PathRequest implements DownlinkOperation {
  readonly type = 'BootstrapWriteRequest' as const;
  readonly method = 'PUT' as const;
  readonly op = 'write' as const;
  readonly expectedCode = '2.04';
  constructor(
    path: LwM2mPath | string,
    readonly node: LwM2mNode,
    readonly contentFormat: number,
  ) {
    super(path);
    if (this.path.level === 'root' || this.path.level === 'resourceInstance') {
      throw new PathError(this.path.toString(), 'Bootstrap-Write targets /O, /O/I or /O/I/R');
    }
  }
  get formatOption(): FormatOption {
    return { name: 'Content-Format', format: this.contentFormat };
  }
}

/** GET `/` or `/O` with Accept 40. Expected success: 2.05 Content (link-format). */
export class BootstrapDiscoverRequest extends PathRequest implements DownlinkOperation {
  readonly type = 'BootstrapDiscoverRequest' as const;
  readonly method = 'GET' as const;
  readonly op = 'discover' as const;
  readonly expectedCode = '2.05';
  readonly formatOption: FormatOption = { name: 'Accept', format: LINK_FORMAT };
  constructor(path: LwM2mPath | string = LwM2mPath.root()) {
    super(path);
    if (this.path.level !== 'root' && this.path.level !== 'object') {
      throw new PathError(this.path.toString(), 'Bootstrap-Discover targets / or /O');
    }
  }
}

/** GET `/1`, `/1/I`, `/2`, `/2/I` (LwM2M 1.1+). Expected success: 2.05 Content. */
export class BootstrapReadRequest extends PathRequest implements DownlinkOperation {
  readonly type = 'BootstrapReadRequest' as const;
  readonly method = 'GET' as const;
  readonly op = 'read' as const;
  readonly expectedCode = '2.05';
  constructor(
    path: LwM2mPath | string,
    readonly accept: number,
  ) {
    super(path);
    const ok =
      (this.path.objectId === 1 || this.path.objectId === 2) &&
      (this.path.level === 'object' || this.path.level === 'instance');
    if (!ok) throw new PathError(this.path.toString(), 'Bootstrap-Read targets /1, /1/I, /2 or /2/I only');
  }
  get formatOption(): FormatOption {
    return { name: 'Accept', format: this.accept };
  }
}

/** POST `/bs`, no payload. Expected success: 2.04 Changed; 4.06 with a diagnostic when inconsistent. */
export class BootstrapFinishRequest implements DownlinkOperation {
  readonly type = 'BootstrapFinishRequest' as const;
  readonly method = 'POST' as const;
  readonly op = 'finish' as const;
  readonly expectedCode = '2.04';
  readonly formatOption = undefined;
  readonly path = 'bs';
  readonly target = '/bs';
  uriPath(): string[] {
    return ['bs'];
  }
}

/** A response from the device, as the session hands it back. */
export interface BootstrapResponse {
  /** CoAP code as text, e.g. '2.04', '4.06'. */
  code: string;
  /** True for the code the operation expects (2.02 delete, 2.04 write/finish, 2.05 discover/read). */
  success: boolean;
  payload: Buffer;
  contentFormat?: number;
  /** Milliseconds from first transmission to response. */
  rttMs: number;
  /** An error response's payload as text (e.g. the client's reason for a 4.06 to Bootstrap-Finish). */
  diagnostic?: string;
}

/** The success code each operation expects. */
export function expectedCode(req: BootstrapDownlinkRequest): string {
  return req.expectedCode;
}

/** For the `default` of a switch over `req.type`: a new operation not handled there does not compile. */
export function unhandledOperation(req: never): never {
  throw new TypeError(`unhandled downlink operation ${String((req as { type?: unknown }).type)}`);
}

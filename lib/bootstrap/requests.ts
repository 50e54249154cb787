/**
 * One type per LwM2M Bootstrap operation the Bootstrap-Server sends to a client, named after the
 * specification. Constructors validate the target path, so an invalid operation never reaches the wire.
 */
import { PathError } from '../errors';
import { LwM2mPath } from '../model/path';
import type { LwM2mNode } from '../model/types';

export type BootstrapDownlinkRequest =
  | BootstrapDeleteRequest
  | BootstrapWriteRequest
  | BootstrapDiscoverRequest
  | BootstrapReadRequest
  | BootstrapFinishRequest;

function asPath(p: LwM2mPath | string): LwM2mPath {
  return typeof p === 'string' ? LwM2mPath.parse(p) : p;
}

/** DELETE `/`, `/O` or `/O/I`. Expected success: 2.02 Deleted. */
export class BootstrapDeleteRequest {
  readonly type = 'BootstrapDeleteRequest' as const;
  readonly method = 'DELETE' as const;
  readonly path: LwM2mPath;
  constructor(path: LwM2mPath | string) {
    this.path = asPath(path);
    if (this.path.level === 'resource' || this.path.level === 'resourceInstance') {
      throw new PathError(this.path.toString(), 'Bootstrap-Delete targets /, /O or /O/I');
    }
  }
}

/**
 * PUT `/O`, `/O/I` or `/O/I/R` with a payload in `contentFormat`. The node is the typed instance tree
 * to write; the session encodes it. Expected success: 2.04 Changed.
 */
export class BootstrapWriteRequest {
  readonly type = 'BootstrapWriteRequest' as const;
  readonly method = 'PUT' as const;
  readonly path: LwM2mPath;
  constructor(
    path: LwM2mPath | string,
    readonly node: LwM2mNode,
    readonly contentFormat: number,
  ) {
    this.path = asPath(path);
    if (this.path.level === 'root' || this.path.level === 'resourceInstance') {
      throw new PathError(this.path.toString(), 'Bootstrap-Write targets /O, /O/I or /O/I/R');
    }
  }
}

/** GET `/` or `/O` with Accept 40. Expected success: 2.05 Content (link-format). */
export class BootstrapDiscoverRequest {
  readonly type = 'BootstrapDiscoverRequest' as const;
  readonly method = 'GET' as const;
  readonly path: LwM2mPath;
  constructor(path: LwM2mPath | string = LwM2mPath.root()) {
    this.path = asPath(path);
    if (this.path.level !== 'root' && this.path.level !== 'object') {
      throw new PathError(this.path.toString(), 'Bootstrap-Discover targets / or /O');
    }
  }
}

/** GET `/1`, `/1/I`, `/2`, `/2/I` (LwM2M 1.1+). Expected success: 2.05 Content. */
export class BootstrapReadRequest {
  readonly type = 'BootstrapReadRequest' as const;
  readonly method = 'GET' as const;
  readonly path: LwM2mPath;
  constructor(
    path: LwM2mPath | string,
    readonly accept: number,
  ) {
    this.path = asPath(path);
    const ok =
      (this.path.objectId === 1 || this.path.objectId === 2) &&
      (this.path.level === 'object' || this.path.level === 'instance');
    if (!ok) throw new PathError(this.path.toString(), 'Bootstrap-Read targets /1, /1/I, /2 or /2/I only');
  }
}

/** POST `/bs`, no payload. Expected success: 2.04 Changed; 4.06 with a diagnostic when inconsistent. */
export class BootstrapFinishRequest {
  readonly type = 'BootstrapFinishRequest' as const;
  readonly method = 'POST' as const;
  readonly path = 'bs';
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
  switch (req.type) {
    case 'BootstrapDeleteRequest':
      return '2.02';
    case 'BootstrapWriteRequest':
    case 'BootstrapFinishRequest':
      return '2.04';
    case 'BootstrapDiscoverRequest':
    case 'BootstrapReadRequest':
      return '2.05';
  }
}

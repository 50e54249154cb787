/** Errors of the object model: bad definitions, and values that do not fit a resource. */
import { Lwm2mError } from '../errors';

/** An object definition is malformed (bad id, resource id out of range, resource keyed under another id). */
export class ModelError extends Lwm2mError {
  readonly objectId: number | undefined;
  constructor(message: string, objectId?: number) {
    super('MODEL', message);
    this.objectId = objectId;
  }
}

/**
 * A JSON value cannot become a typed LwM2M value, or names a resource the model does not know.
 * `path` is the LwM2M path of the value (e.g. "/0/1/2" or "/3/0/6/1"), `reason` says what to fix.
 */
export class ValueError extends Lwm2mError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super('VALUE', `${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

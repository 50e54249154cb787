/**
 * Errors that carry data. Every error thrown by lib/ is one of these (or a subclass), so that nodes can
 * put the data on the message and in the status, and Catch nodes see a clear text.
 */

export class Lwm2mError extends Error {
  /** Stable machine-readable code, e.g. 'CODEC', 'PATH', 'PROFILE', 'SESSION_NOT_FOUND'. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A payload could not be encoded or decoded. `path` is the LwM2M path concerned, `offset` the byte offset. */
export class CodecError extends Lwm2mError {
  readonly format: number | undefined;
  readonly path: string | undefined;
  readonly offset: number | undefined;
  constructor(message: string, opts: { format?: number; path?: string; offset?: number } = {}) {
    const where = [
      opts.path !== undefined ? `path ${opts.path}` : undefined,
      opts.offset !== undefined ? `byte ${opts.offset}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super('CODEC', where ? `${message} (${where})` : message);
    this.format = opts.format;
    this.path = opts.path;
    this.offset = opts.offset;
  }
}

/** A path string is not a valid LwM2M path, or not valid for the operation. */
export class PathError extends Lwm2mError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super('PATH', `invalid LwM2M path "${input}": ${reason}`);
    this.input = input;
  }
}

/** The content format is not one we can produce or read. */
export class UnsupportedFormatError extends Lwm2mError {
  readonly format: number;
  constructor(format: number, what = 'content format') {
    super('UNSUPPORTED_FORMAT', `unsupported ${what} ${format}`);
    this.format = format;
  }
}

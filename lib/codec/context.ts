/**
 * Where a codec is while it works: the content format and the LwM2M path, so that every failure becomes a
 * CodecError carrying both (and the byte offset when one is known).
 */
import { CodecError } from '../errors';

export class CodecContext {
  constructor(
    readonly format: number,
    readonly path: string,
  ) {}

  /** Throws a CodecError for this format; `path` defaults to the request path. */
  fail(message: string, offset?: number, path?: string): never {
    throw new CodecError(message, { format: this.format, path: path ?? this.path, offset });
  }

  /** The same context at another path (e.g. a resource below the request path). */
  at(path: string): CodecContext {
    return new CodecContext(this.format, path);
  }
}

/**
 * Runs `fn`; anything that is not already a CodecError (a library's RangeError, a TypeError from a bad
 * value) becomes one, so no raw exception leaves a codec.
 */
export function guard<T>(ctx: CodecContext, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CodecError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    return ctx.fail(`${what}: ${msg}`);
  }
}

/** The payload as a Buffer (a Uint8Array is viewed, not copied); anything else is a CodecError. */
export function asBuffer(ctx: CodecContext, payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return ctx.fail(`payload must be a Buffer, got ${payload === null ? 'null' : typeof payload}`);
}

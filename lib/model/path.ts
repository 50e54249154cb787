/**
 * LwM2M paths: `/`, `/O`, `/O/I`, `/O/I/R`, `/O/I/R/RI`. Every id is 0..65535; 65535 is reserved for
 * object instance and resource ids ("MAX_ID") but allowed where the specification uses it (ACL rows).
 */
import { PathError } from '../errors';

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';

const LEVELS: PathLevel[] = ['root', 'object', 'instance', 'resource', 'resourceInstance'];

export class LwM2mPath {
  readonly ids: readonly number[];

  constructor(...ids: number[]) {
    if (ids.length > 4) throw new PathError('/' + ids.join('/'), 'at most 4 levels (/O/I/R/RI)');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id > 65535) {
        throw new PathError('/' + ids.join('/'), `id ${id} is not an integer in 0..65535`);
      }
    }
    this.ids = Object.freeze(ids); // a rest parameter: a fresh array of our own
  }

  static root(): LwM2mPath {
    return new LwM2mPath();
  }

  /** Parses `/3/0/1`, `3/0/1`, `/` or ``. Rejects empty segments, signs, leading zeros beyond "0", and text. */
  static parse(input: string): LwM2mPath {
    if (typeof input !== 'string') throw new PathError(String(input), 'not a string');
    let s = input.trim();
    if (s.startsWith('/')) s = s.slice(1);
    if (s.endsWith('/')) s = s.slice(0, -1);
    if (s === '') return LwM2mPath.root();
    const parts = s.split('/');
    if (parts.length > 4) throw new PathError(input, 'at most 4 levels (/O/I/R/RI)');
    const ids = parts.map((p) => {
      if (!/^(0|[1-9][0-9]{0,4})$/.test(p)) throw new PathError(input, `segment "${p}" is not a number`);
      const n = Number(p);
      if (n > 65535) throw new PathError(input, `id ${n} is above 65535`);
      return n;
    });
    return new LwM2mPath(...ids);
  }

  get level(): PathLevel {
    return LEVELS[this.ids.length];
  }
  get objectId(): number | undefined {
    return this.ids[0];
  }
  get instanceId(): number | undefined {
    return this.ids[1];
  }
  get resourceId(): number | undefined {
    return this.ids[2];
  }
  get resourceInstanceId(): number | undefined {
    return this.ids[3];
  }

  isRoot(): boolean {
    return this.ids.length === 0;
  }

  /** Uri-Path option values, one per segment (none for the root). */
  toSegments(): string[] {
    return this.ids.map(String);
  }

  append(id: number): LwM2mPath {
    return new LwM2mPath(...this.ids, id);
  }

  parent(): LwM2mPath {
    return new LwM2mPath(...this.ids.slice(0, -1));
  }

  equals(other: LwM2mPath): boolean {
    return this.ids.length === other.ids.length && this.ids.every((v, i) => v === other.ids[i]);
  }

  /** True when `other` is this path or below it. */
  contains(other: LwM2mPath): boolean {
    return this.ids.length <= other.ids.length && this.ids.every((v, i) => v === other.ids[i]);
  }

  toString(): string {
    // Written out for each depth: join() is a general routine (and slower than this) for at most four ids.
    const ids = this.ids;
    switch (ids.length) {
      case 0:
        return '/';
      case 1:
        return '/' + ids[0];
      case 2:
        return '/' + ids[0] + '/' + ids[1];
      case 3:
        return '/' + ids[0] + '/' + ids[1] + '/' + ids[2];
      default:
        return '/' + ids[0] + '/' + ids[1] + '/' + ids[2] + '/' + ids[3];
    }
  }

  toJSON(): string {
    return this.toString();
  }
}

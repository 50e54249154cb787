/** ProfileError: a profile that cannot be used, with every issue found (JSON pointer + what to fix). */
import { Lwm2mError } from '../errors';
import type { ProfileIssue } from './types';

/** "pointer: message" lines, the form operators read. */
export function formatIssues(issues: readonly ProfileIssue[]): string {
  return issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('\n');
}

export class ProfileError extends Lwm2mError {
  readonly issues: readonly ProfileIssue[];
  /** The profile's name, when known. */
  readonly profileName: string | undefined;
  constructor(issues: readonly ProfileIssue[], profileName?: string) {
    const head = profileName ? `profile "${profileName}"` : 'profile';
    const n = issues.length;
    super('PROFILE', `${head}: ${n === 1 ? '' : `${n} problems:\n`}${formatIssues(issues)}`);
    this.issues = Object.freeze([...issues]);
    this.profileName = profileName;
  }
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(s: string | number): string {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Joins JSON pointer segments onto a base pointer. */
export function pointer(base: string, ...segs: (string | number)[]): string {
  return base + segs.map((s) => '/' + pointerSegment(s)).join('');
}

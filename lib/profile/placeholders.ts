/**
 * `${name}` placeholders in profiles. A name is a letter or underscore followed by letters, digits,
 * `_`, `.` or `-` (so device-table columns like `apn.name` work). There is no escape: a profile cannot
 * write the literal text `${name}` (no LwM2M resource needs it, and a resolved profile must hold none).
 */
import { pointer } from './errors';

export const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;
export const WHOLE_PLACEHOLDER = /^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

/** Names of the placeholders in one string. */
export function placeholdersIn(s: string): string[] {
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** True when `v`, or any string inside it, holds a placeholder. */
export function hasPlaceholder(v: unknown): boolean {
  if (typeof v === 'string') return placeholdersIn(v).length > 0;
  if (Array.isArray(v)) return v.some(hasPlaceholder);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.values(v).some(hasPlaceholder);
  return false;
}

/** Every placeholder of a profile with its JSON pointer, skipping the `templates` section. */
export function findPlaceholders(v: unknown, at = ''): { pointer: string; name: string }[] {
  if (typeof v === 'string') return placeholdersIn(v).map((name) => ({ pointer: at, name }));
  if (Array.isArray(v)) return v.flatMap((x, i) => findPlaceholders(x, pointer(at, i)));
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    return Object.entries(v).flatMap(([k, x]) => (at === '' && k === 'templates' ? [] : findPlaceholders(x, pointer(at, k))));
  }
  return [];
}

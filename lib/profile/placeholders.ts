/**
 * `${name}` placeholders in profiles. A name is a letter or underscore followed by letters, digits,
 * `_`, `.` or `-` (so device-table columns like `apn.name` work). There is no escape: a profile cannot
 * write the literal text `${name}` (no LwM2M resource needs it, and a resolved profile must hold none).
 */
import { pointer } from './errors';

export const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;
export const WHOLE_PLACEHOLDER = /^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

const ONE_PLACEHOLDER = /\$\{[A-Za-z_][A-Za-z0-9_.-]*\}/;

/** Names of the placeholders in one string. */
export function placeholdersIn(s: string): string[] {
  if (!s.includes('${')) return [];
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** True when `v`, or any string inside it, holds a placeholder. */
export function hasPlaceholder(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('${') && ONE_PLACEHOLDER.test(v);
  if (Array.isArray(v)) return v.some(hasPlaceholder);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.values(v).some(hasPlaceholder);
  return false;
}

/** Every placeholder of a profile with its JSON pointer, skipping the `templates` section. */
export function findPlaceholders(v: unknown, at = ''): { pointer: string; name: string }[] {
  const out: { pointer: string; name: string }[] = [];
  collect(v, at, [], out, at === '');
  return out;
}

/**
 * Walks `v` (at `base` plus the segments in `path`), building a pointer only where a placeholder is:
 * profiles are walked per bootstrap and have few placeholders, if any.
 */
function collect(v: unknown, base: string, path: (string | number)[], out: { pointer: string; name: string }[], top: boolean): void {
  if (typeof v === 'string') {
    const names = placeholdersIn(v);
    if (names.length === 0) return;
    const at = pointer(base, ...path);
    for (const name of names) out.push({ pointer: at, name });
    return;
  }
  if (!v || typeof v !== 'object' || Buffer.isBuffer(v)) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) visit(v[i], i, base, path, out);
    return;
  }
  for (const k of Object.keys(v)) {
    if (top && k === 'templates') continue;
    visit((v as Record<string, unknown>)[k], k, base, path, out);
  }
}

function visit(x: unknown, seg: string | number, base: string, path: (string | number)[], out: { pointer: string; name: string }[]): void {
  if (typeof x === 'string' ? !x.includes('${') : !x || typeof x !== 'object') return;
  path.push(seg);
  collect(x, base, path, out, false);
  path.pop();
}

/**
 * Node-RED replaces a property whose whole value is `${NAME}` with the environment variable NAME when it is
 * set, and leaves the text as it is when it is not. These helpers turn such a left-over placeholder into the
 * node's default, so that a flow can say "BS_PORT, else 5683".
 */

/** True when `value` is an unresolved `${NAME}` placeholder (or empty). */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (typeof value === 'string' && /^\$\{\S+\}$/.test(value.trim()));
}

/** A string property, or `fallback` when the property is empty or an unresolved placeholder. */
export function stringOr(value: unknown, fallback: string): string {
  return isUnset(value) ? fallback : String(value).trim();
}

/**
 * An integer property within [min, max], or `fallback` when unset. Returns undefined when the property is
 * set but not a valid integer in range, so the caller can report a translated error.
 */
export function intOr(value: unknown, fallback: number, min: number, max: number): number | undefined {
  if (isUnset(value)) return fallback;
  const s = String(value).trim();
  if (!/^-?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

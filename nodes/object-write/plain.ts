/**
 * A copy of plain data as JSON.parse(JSON.stringify(v)) gives it, without the text in between: audit
 * records and Discover results go onto every message of a bootstrap storm. Plain objects, arrays,
 * strings, booleans, null and finite numbers are copied here with JSON's rules (properties that are
 * undefined, functions or symbols are left out; in arrays they become null; NaN and Infinity become
 * null); anything else (a Buffer, a Date, an object with toJSON or another prototype, a bigint) takes
 * the JSON round trip itself.
 */
export function plain<T>(v: T): T {
  const r = copy(v, 0);
  return (r === FALLBACK ? JSON.parse(JSON.stringify(v)) : r) as T;
}

const FALLBACK = Symbol('fallback');
const MAX_DEPTH = 64;

function copy(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'object': {
      if (v === null) return null;
      if (depth > MAX_DEPTH) return FALLBACK;
      if (Array.isArray(v)) {
        const out: unknown[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          if (x === undefined || typeof x === 'function' || typeof x === 'symbol') out[i] = null;
          else {
            const c = copy(x, depth + 1);
            if (c === FALLBACK) return FALLBACK;
            out[i] = c;
          }
        }
        return out;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return FALLBACK;
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return FALLBACK;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        if (k === '__proto__') return FALLBACK;
        const c = copy(x, depth + 1);
        if (c === FALLBACK) return FALLBACK;
        out[k] = c;
      }
      return out;
    }
    default:
      return FALLBACK; // undefined at the top, bigint, function, symbol: JSON's own answer
  }
}

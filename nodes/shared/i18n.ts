import type { NodeAPI } from 'node-red';

export type Translate = (key: string, vars?: Record<string, unknown>) => string;

/** i18next options: a variable of one of these names changes the lookup itself, so RED._ sees each call. */
const OPTION_NAMES = new Set([
  'lng', 'lngs', 'fallbackLng', 'ns', 'context', 'replace', 'defaultValue', 'interpolation', 'skipInterpolation',
  'returnObjects', 'returnDetails', 'joinArrays', 'keySeparator', 'nsSeparator', 'postProcess', 'ordinal', 'nest',
]);

/** Markers for the variables while RED._ translates a message once (private-use characters). */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const MARK = /\uE000(\d+)\uE001/g;

/** Most compiled messages one translator keeps (a `count` that keeps changing makes new ones). */
const MAX_COMPILED = 512;

/** A translated message with its variables cut out: text, variable, text, variable, …, text. */
interface Compiled {
  texts: string[];
  /** The variable between texts[i] and texts[i + 1]. */
  vars: string[];
}

/**
 * RED._ bound to one node type's catalog: t('status.listening', { port }) -> "listening :5683".
 *
 * Each message is translated by RED._ once per set of variable names, with a marker in place of each
 * value, and kept; later calls put the values where the markers were. Statuses and payloads are
 * translated per message, and i18next's lookup (language fallbacks, plural rules for `count`) took a
 * third of the server's CPU in a bootstrap storm. Node-RED's i18next inserts values as they are (no
 * escaping, no second pass over them); `count` is passed through as it is (it may select a plural form),
 * and a variable named like an i18next option, or a message with nesting (`$t(…)`), goes to RED._ each
 * time, as does a key the catalog lacks.
 */
export function translator(RED: NodeAPI, type: string): Translate {
  const compiled = new Map<string, Compiled | null>();
  // Per key, the variable names of its last call and what they compiled to: a node calls each key with the
  // same names every time, so the common call builds no cache key (Object.keys, a join) and allocates nothing
  // before the text itself.
  const recent = new Map<string, Recent>();
  const direct = (full: string, vars: Record<string, unknown> | undefined): string =>
    RED._(full, vars as Record<string, string | number> | undefined);
  const lookup = (key: string, vars: Record<string, unknown> | undefined): Compiled | null => {
    const names = vars ? Object.keys(vars) : [];
    const counted = names.includes('count');
    let cacheKey = names.length ? `${key}\0${names.join(',')}` : key;
    if (counted) cacheKey += `\0${String((vars as Record<string, unknown>).count)}`;
    let c = compiled.get(cacheKey);
    if (c === undefined) {
      c = compile(`${type}.${key}`, names, vars, direct);
      if (compiled.size >= MAX_COMPILED) compiled.clear();
      compiled.set(cacheKey, c);
    }
    const r = recent.get(key);
    if (!r || !sameNames(r.names, vars)) {
      if (recent.size >= MAX_COMPILED) recent.clear();
      recent.set(key, { names, counted, compiled: c, byCount: counted ? new Map([[(vars as Record<string, unknown>).count, c]]) : undefined });
    } else if (r.byCount) {
      if (r.byCount.size >= MAX_COMPILED) r.byCount.clear();
      r.byCount.set((vars as Record<string, unknown>).count, c);
    }
    return c;
  };
  return (key, vars) => {
    let c: Compiled | null | undefined;
    const r = recent.get(key);
    if (r !== undefined && sameNames(r.names, vars)) c = r.byCount ? r.byCount.get((vars as Record<string, unknown>).count) : r.compiled;
    if (c === undefined) c = lookup(key, vars);
    if (c === null) return direct(`${type}.${key}`, vars);
    if (c.vars.length === 0) return c.texts[0];
    let out = c.texts[0];
    for (let i = 0; i < c.vars.length; i++) {
      const v = (vars as Record<string, unknown>)[c.vars[i]];
      out += (v === undefined || v === null ? '' : '' + (v as string)) + c.texts[i + 1];
    }
    return out;
  };
}

/** What a key compiled to for the variable names of its last call (and per `count` value, when counted). */
interface Recent {
  names: string[];
  counted: boolean;
  compiled: Compiled | null;
  byCount: Map<unknown, Compiled | null> | undefined;
}

/** `vars` has exactly these names, in this order (what Object.keys would give), without allocating. */
function sameNames(names: string[], vars: Record<string, unknown> | undefined): boolean {
  let i = 0;
  if (vars) {
    for (const k in vars) {
      if (names[i] !== k) return false;
      i++;
    }
  }
  return i === names.length;
}

/** The message translated with markers for the values, or null when it must be translated per call. */
function compile(
  full: string,
  names: string[],
  vars: Record<string, unknown> | undefined,
  direct: (full: string, vars: Record<string, unknown> | undefined) => string,
): Compiled | null {
  if (names.some((n) => OPTION_NAMES.has(n))) return null;
  const marked: Record<string, unknown> = {};
  names.forEach((n, i) => (marked[n] = n === 'count' ? vars?.count : `${OPEN}${i}${CLOSE}`));
  const text: unknown = names.length ? direct(full, marked) : direct(full, undefined);
  if (typeof text !== 'string' || text === full || text.includes('$t(')) return null;
  const texts: string[] = [];
  const used: string[] = [];
  let last = 0;
  for (const m of text.matchAll(MARK)) {
    const i = Number(m[1]);
    if (!(i < names.length)) return null;
    texts.push(text.slice(last, m.index));
    used.push(names[i]);
    last = (m.index as number) + m[0].length;
  }
  texts.push(text.slice(last));
  if (texts.some((t) => t.includes(OPEN) || t.includes(CLOSE))) return null;
  return { texts, vars: used };
}

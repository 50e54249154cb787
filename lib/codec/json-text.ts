/**
 * A small strict JSON reader for SenML JSON and LwM2M JSON: whole numbers beyond 2^53 come back as bigint
 * (JSON.parse would round them), duplicate keys and nesting beyond 32 levels are errors, and every array
 * and object remembers its character offset so that codec errors can point at the record concerned.
 */

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/** A JSON value as the bigint-aware reader returns it (integers beyond 2^53 stay exact). */
export type JsonDatum = null | boolean | number | bigint | string | JsonDatum[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonDatum;
}

const MAX_DEPTH = 32;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export interface ParsedJson {
  value: JsonDatum;
  /** Character offset of each array and object. */
  offsets: WeakMap<object, number>;
}

export function parseJson(text: string): ParsedJson {
  let i = 0;
  const offsets = new WeakMap<object, number>();
  const err = (msg: string, at = i): never => {
    throw new JsonSyntaxError(msg, at);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) err('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i++);
        return out;
      }
      if (c < 0x20) err('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else err('invalid escape in string');
        start = i;
      } else i++;
    }
  };
  const value = (depth: number): JsonDatum => {
    ws();
    if (depth > MAX_DEPTH) err(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = text[i];
    if (c === '{') {
      const obj: JsonObject = Object.create(null) as JsonObject;
      offsets.set(obj, i++);
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') err('expected a key in quotes');
        const at = i;
        const k = str();
        if (Object.prototype.hasOwnProperty.call(obj, k)) err(`duplicate key "${k}"`, at);
        ws();
        if (text[i++] !== ':') err('expected ":"', i - 1);
        obj[k] = value(depth + 1);
        ws();
        const d = text[i++];
        if (d === '}') return obj;
        if (d !== ',') err('expected "," or "}"', i - 1);
      }
    }
    if (c === '[') {
      const arr: JsonDatum[] = [];
      offsets.set(arr, i++);
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        const d = text[i++];
        if (d === ']') return arr;
        if (d !== ',') err('expected "," or "]"', i - 1);
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return err(i >= text.length ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(text[i])}`);
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const b = BigInt(m[0]);
      if (b > SAFE_MAX || b < -SAFE_MAX) return b;
    }
    return Number(m[0]);
  };
  const v = value(0);
  ws();
  if (i < text.length) err('unexpected data after the JSON value');
  return { value: v, offsets };
}

/** JSON text of a number (bigint kept exact); NaN and infinities have none. */
export function jsonNumber(v: number | bigint): string | undefined {
  if (typeof v === 'bigint') return v.toString();
  if (!Number.isFinite(v)) return undefined;
  return Object.is(v, -0) ? '0' : JSON.stringify(v);
}

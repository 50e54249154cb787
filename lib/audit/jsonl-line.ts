/**
 * One audit line: exactly `JSON.stringify({ ...record, listenerId }) + '\n'`, made without that object and
 * cheaper than JSON.stringify where most of a record's text is: its steps.
 *
 * V8's JSON.stringify (Node 20/22) escapes every string character by character, keys included; a step is a
 * small object of seven keys and costs about as much as the rest of the record. Here a step of the usual
 * shape (the keys AuditStep has in the order the session gives them, op method path code success ms
 * [contentFormat]) is its cached prefix text, up to `"ms":`, plus its numbers; the prefix is made once per
 * (op, method, path, code, success) by JSON.stringify itself. Anything else (another key, another order,
 * a value of another type) goes to JSON.stringify unchanged, so the output never differs from it: the
 * tests compare the two on ordinary and odd records.
 */
import type { AuditRecord, AuditStep } from '../bootstrap/audit';

/** Cached step prefixes at most (op × method × path × code: a bounded set in practice; beyond this, no caching). */
const MAX_PREFIXES = 4096;

type Prefixes = Map<string, Map<string, Map<string, Map<string, [string, string]>>>>;

export class AuditLineEncoder {
  private readonly prefixes: Prefixes = new Map();
  private cached = 0;
  private readonly quoted = new Map<string, string>();

  /** `JSON.stringify({ ...record, listenerId }) + '\n'` (no listenerId key when it is undefined). */
  line(record: AuditRecord, listenerId?: string): string {
    // A prototype of its own, a toJSON (which would also be every step's), a listenerId already: as JSON.stringify.
    if (Object.getPrototypeOf(record) !== Object.prototype || 'toJSON' in record || (listenerId !== undefined && Object.prototype.hasOwnProperty.call(record, 'listenerId'))) {
      return JSON.stringify(listenerId === undefined ? record : { ...record, listenerId }) + '\n';
    }
    let s = '{';
    let first = true;
    for (const k of Object.keys(record)) {
      const v = (record as unknown as Record<string, unknown>)[k];
      let text: string | undefined;
      if (typeof v === 'string') text = quote(v);
      else if (typeof v === 'number') text = Number.isFinite(v) ? `${v}` : 'null';
      else if (k === 'steps' && Array.isArray(v)) text = this.steps(v);
      else text = JSON.stringify(v);
      if (text === undefined) continue; // undefined, a function: no key, as JSON.stringify
      s += (first ? '' : ',') + this.key(k) + ':' + text;
      first = false;
    }
    if (listenerId !== undefined) s += (first ? '' : ',') + '"listenerId":' + this.key(listenerId);
    return s + '}\n';
  }

  /** A key or listener id as a JSON string, remembered (records have a handful of each). */
  private key(k: string): string {
    let q = this.quoted.get(k);
    if (q === undefined) {
      q = quote(k);
      if (this.quoted.size < MAX_PREFIXES) this.quoted.set(k, q);
    }
    return q;
  }

  private steps(steps: unknown[]): string {
    if (Object.getPrototypeOf(steps) !== Array.prototype) return JSON.stringify(steps);
    let s = '[';
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i];
      s += (i === 0 ? '' : ',') + (st !== null && typeof st === 'object' && !Array.isArray(st) ? this.step(st as AuditStep) : (JSON.stringify(st) ?? 'null'));
    }
    return s + ']';
  }

  /** One step: the cached prefix and its numbers when it has the usual shape, else JSON.stringify. */
  private step(st: AuditStep): string {
    if (Object.getPrototypeOf(st) !== Object.prototype) return JSON.stringify(st);
    let n = 0;
    for (const k in st) {
      if (n < 6 ? k !== STEP_KEYS[n] : n > 6 || k !== 'contentFormat') return JSON.stringify(st);
      n++;
    }
    const { op, method, path, code, success, ms } = st;
    if (n < 6 || typeof op !== 'string' || typeof method !== 'string' || typeof path !== 'string' || typeof code !== 'string') return JSON.stringify(st);
    if (typeof success !== 'boolean' || !isFiniteNumber(ms)) return JSON.stringify(st);
    const prefix = this.prefix(op, method, path, code)[success ? 1 : 0];
    if (n === 6) return `${prefix}${ms}}`;
    const cf = st.contentFormat;
    return isFiniteNumber(cf) ? `${prefix}${ms},"contentFormat":${cf}}` : JSON.stringify(st);
  }

  /** `{"op":…,"method":…,"path":…,"code":…,"success":false|true,"ms":` for success false and true. */
  private prefix(op: string, method: string, path: string, code: string): [string, string] {
    let byMethod = this.prefixes.get(op);
    if (!byMethod) this.prefixes.set(op, (byMethod = new Map()));
    let byPath = byMethod.get(method);
    if (!byPath) byMethod.set(method, (byPath = new Map()));
    let byCode = byPath.get(path);
    if (!byCode) byPath.set(path, (byCode = new Map()));
    let p = byCode.get(code);
    if (!p) {
      const head = `{"op":${JSON.stringify(op)},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"code":${JSON.stringify(code)},"success":`;
      p = [`${head}false,"ms":`, `${head}true,"ms":`];
      if (this.cached < MAX_PREFIXES) {
        this.cached++;
        byCode.set(code, p);
      }
    }
    return p;
  }
}

/** The keys of a usual step, in the order the session sets them (contentFormat may follow). */
const STEP_KEYS = ['op', 'method', 'path', 'code', 'success', 'ms'];

/** A JSON string literal: the text itself in quotes when nothing in it needs escaping (as JSON.stringify decides). */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

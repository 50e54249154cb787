/**
 * What applyTemplate can reuse between bootstraps. A profile from a store is filled per device, mostly with
 * the same few values (an APN per region, the same server URI): the same template filled with the same
 * values is the same ValidatedProfile, which is frozen (validated.ts), so one object can serve every such
 * device, and what is derived from it by identity (its plan, its encoded writes: plan.ts, bootstrap/result.ts)
 * is made once too.
 *
 * - templateRecord: per template object, its JSON text (to see that it is still the same template: a
 *   profile on msg is an ordinary object its owner may change between messages; a deep-frozen template
 *   cannot change and is not compared again) and the names of its
 *   placeholders, found once instead of per fill. A changed template gets a new record, so a new id, and
 *   no result filled from the old text is found for it.
 * - the memo: a bounded LRU (MEMO_SIZE entries) from (template id, model, the values of the template's own
 *   placeholders) to the ValidatedProfile, held weakly until it is asked for a second time, so that values
 *   unique per device keep no profiles alive. Only valid results are kept; an invalid fill is checked again each
 *   time and gives its error each time. Values the template does not use are not part of the key (a
 *   request's peer port does not make another profile). It holds only profiles, which hold the same
 *   values any session's profile holds; values that never repeat (one-time keys) are left out by the
 *   caller (applyTemplate's `fresh`), so that no such key outlives its session here. The memo's keys hold a
 *   SHA-256 digest of the values, never the values themselves.
 */
import { hash } from 'node:crypto';
import type { ObjectModel } from '../model/types';
import { PLACEHOLDER } from './placeholders';
import type { ValidatedProfile } from './validated';
import { isReadOnlyView } from './view';

export interface TemplateRecord {
  /** A number for this template text in the memo's keys. */
  readonly id: number;
  /** JSON text of the whole template (its `templates` section included). */
  readonly text: string;
  /** Every placeholder name in the text (the `templates` section too), each once. */
  readonly names: readonly string[];
  /** The template and everything in it is frozen: it cannot change, its text need not be compared again. */
  readonly frozen: boolean;
}

const records = new WeakMap<object, TemplateRecord>();
let nextId = 0;

/**
 * The record of `template` as it is now (its JSON text compared with the last one seen); undefined when it
 * has no JSON text (a cycle, a BigInt).
 */
export function templateRecord(template: object): TemplateRecord | undefined {
  const last = records.get(template);
  if (last?.frozen) return last;
  let text: string | undefined;
  try {
    text = JSON.stringify(template);
  } catch {
    return undefined;
  }
  if (typeof text !== 'string') return undefined;
  if (last && last.text === text) return last;
  const names = new Set<string>();
  if (text.includes('${')) for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1]);
  const r: TemplateRecord = { id: nextId++, text, names: [...names], frozen: deepFrozen(template) };
  records.set(template, r);
  return r;
}

/**
 * Freezes a stored template (a parsed JSON document: plain objects, arrays, scalars) and everything in it,
 * so the memo reads its text once instead of comparing it at every fill. For templates their owner never
 * changes (a profiles config node's stored profiles).
 */
export function freezeTemplate<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  for (const x of Object.values(v)) freezeTemplate(x);
  return Object.freeze(v);
}

/** True when `v` and every object inside it are frozen (a ValidatedProfile, a template its owner froze). */
function deepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (!Object.isFrozen(v) || ArrayBuffer.isView(v) || isReadOnlyView(v)) return false;
  for (const x of Object.values(v)) if (!deepFrozen(x)) return false;
  return true;
}

/** Entries the memo keeps at most (least recently used go first). */
export const MEMO_SIZE = 1024;

/**
 * Key -> the profile: held weakly after its first fill (WeakRef), strongly once it is asked for again. Values
 * that differ per device (an endpoint in a URI, a key per device) so leave a short key here, not a whole
 * profile (and its plan) kept alive until 1,024 later fills push it out; a profile a session still holds
 * is found again without a check.
 */
const memo = new Map<string, ValidatedProfile | WeakRef<ValidatedProfile>>();
const modelIds = new WeakMap<ObjectModel, number>();
let nextModelId = 0;

/** Fills found in the memo and fills checked, since the process started (tests and the bench read them). */
const counts = { hits: 0, misses: 0 };
export function templateMemoCounts(): { hits: number; misses: number; size: number } {
  return { ...counts, size: memo.size };
}

/**
 * The memo's key for `record` filled with `values` against `model`; undefined when a placeholder has no
 * value (the fill reports it) or one of `fresh` is used (a value that never repeats).
 */
export function memoKey(record: TemplateRecord, values: Record<string, unknown>, model: ObjectModel, fresh?: readonly string[]): string | undefined {
  const used: unknown[] = [];
  for (const n of record.names) {
    if (!Object.prototype.hasOwnProperty.call(values, n)) return undefined;
    if (fresh?.includes(n)) return undefined;
    used.push(values[n]);
  }
  let mid = modelIds.get(model);
  if (mid === undefined) modelIds.set(model, (mid = nextModelId++));
  // JSON keeps types apart: 300 and "300" fill a whole-string placeholder differently. The key holds a digest
  // of the values, not the values: a key from a device table does not stay here as text.
  return `${record.id}|${mid}|${hash('sha256', JSON.stringify(used), 'base64')}`;
}

/** The remembered profile for `key`, if any (and it becomes the most recently used, held strongly). */
export function memoGet(key: string): ValidatedProfile | undefined {
  const e = memo.get(key);
  const p = e instanceof WeakRef ? e.deref() : e;
  if (p === undefined) {
    counts.misses++;
    return undefined;
  }
  counts.hits++;
  memo.delete(key);
  memo.set(key, p);
  return p;
}

/** Remembers a valid fill: weakly on its first fill, strongly from one whose first was collected. */
export function memoSet(key: string, p: ValidatedProfile): void {
  const seen = memo.has(key);
  if (seen) memo.delete(key);
  memo.set(key, seen ? p : new WeakRef(p));
  if (memo.size > MEMO_SIZE) memo.delete(memo.keys().next().value as string);
}

/** @internal for tests: empties the memo. */
export function clearTemplateMemo(): void {
  memo.clear();
}

/**
 * Per-device values for a profile: every `${name}` in every string (keys excepted, the `templates`
 * section excepted) is replaced. A string that is exactly one placeholder takes the value's type, so
 * `"lifetime": "${lifetime}"` becomes a number when the value is one; inside a longer string the value is
 * written as text.
 *
 * Values come from the caller (the endpoint name as `endpoint`, device-table columns, generated
 * credentials) over the profile's own `templates` defaults. A placeholder without a value is a
 * ProfileError naming where it is; the filled-in profile is validated (once: the ValidatedProfile it
 * becomes is what the rest of the bootstrap takes, validated.ts), so a device value that
 * breaks it (a malformed key, an SSID out of range) is reported against the device, not at run time.
 */
import { defaultModel } from '../model/registry';
import type { ObjectModel } from '../model/types';
import { pointer, ProfileError } from './errors';
import { PLACEHOLDER, WHOLE_PLACEHOLDER } from './placeholders';
import type { BootstrapProfile, ProfileIssue } from './types';
import { memoGet, memoKey, memoSet, templateRecord, type TemplateRecord } from './template-memo';
import { validatedProfile, type ValidatedProfile } from './validated';

export type TemplateValues = Record<string, string | number | boolean>;

/** @internal exported for tests: the walk, which also names each placeholder without a value. */
export function fill(v: unknown, values: TemplateValues, at: string, issues: ProfileIssue[]): unknown {
  if (typeof v === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(v);
    if (whole) {
      if (Object.prototype.hasOwnProperty.call(values, whole[1])) return values[whole[1]];
      issues.push({ pointer: at, message: `the placeholder \${${whole[1]}} has no value; give it one in the device's values or in templates` });
      return v;
    }
    return v.replace(PLACEHOLDER, (m: string, name: string) => {
      if (Object.prototype.hasOwnProperty.call(values, name)) return String(values[name]);
      issues.push({ pointer: at, message: `the placeholder \${${name}} has no value; give it one in the device's values or in templates` });
      return m;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => fill(x, values, pointer(at, i), issues));
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = at === '' && k === 'templates' ? x : fill(x, values, pointer(at, k), issues);
    return out;
  }
  return v;
}

const TEMPLATES_MARK = '\u0000templates\u0000';

/** Where a template's placeholders are: the path to each string holding one, and the string. */
interface Slot {
  path: (string | number)[];
  text: string;
  /** The name, when the string is exactly one placeholder (the value keeps its type). */
  whole?: string;
}

/** A template found plain JSON data: its JSON text (the `templates` section marked) and its placeholders. */
interface PlainTemplate {
  text: string;
  slots: Slot[];
}

/**
 * Templates found plain JSON data (or not: null), per record of their text (template-memo.ts): a record
 * stands for one text of one object, so the check and the placeholder walk are made once per template,
 * not per fill.
 */
const plainTemplates = new WeakMap<TemplateRecord, PlainTemplate | null>();

function plainTemplate(profile: BootstrapProfile, record: TemplateRecord | undefined): PlainTemplate | undefined {
  const known = record ? plainTemplates.get(record) : undefined;
  if (known !== undefined) return known ?? undefined;
  // The templates section is kept as it is, like fill() does: a mark stands in for it in the text.
  const hasTemplates = Object.prototype.hasOwnProperty.call(profile, 'templates');
  const shallow: Record<string, unknown> = hasTemplates ? { ...profile, templates: TEMPLATES_MARK } : (profile as unknown as Record<string, unknown>);
  let text: string | undefined;
  try {
    text = JSON.stringify(shallow);
  } catch {
    text = undefined;
  }
  const plain = typeof text === 'string' && isPlainJson(shallow) ? { text, slots: slotsOf(JSON.parse(text)) } : undefined;
  if (record) plainTemplates.set(record, plain ?? null);
  return plain;
}

function slotsOf(doc: unknown): Slot[] {
  const out: Slot[] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (typeof v === 'string') {
      if (!v.includes('${') || !PLACEHOLDER_TEST.test(v)) return;
      const whole = WHOLE_PLACEHOLDER.exec(v);
      out.push(whole ? { path: [...path], text: v, whole: whole[1] } : { path: [...path], text: v });
      return;
    }
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(doc, []);
  return out;
}

const PLACEHOLDER_TEST = /\$\{[A-Za-z_][A-Za-z0-9_.-]*\}/;

/**
 * fill() through JSON text: JSON.parse builds objects at their exact size (integer keys such as object
 * ids and resource ids would otherwise grow a holey backing store per object, ~0.6 KiB per filled
 * profile that a pending session holds) and costs less than the walk, which builds a pointer per value;
 * the placeholders are then written at the places found once per template. Only for plain JSON data:
 * undefined when the profile holds anything JSON would change (undefined, functions, Buffers and other
 * objects, non-finite numbers, -0, holes, `__proto__` keys) or a placeholder without a value, for which
 * the walk gives the issues with their pointers.
 *
 * @internal exported for tests.
 */
export function fillByJson(profile: BootstrapProfile, values: TemplateValues, record?: TemplateRecord): unknown {
  if (!profile || typeof profile !== 'object' || Array.isArray(profile)) return undefined;
  const plain = plainTemplate(profile, record ?? templateRecord(profile));
  if (!plain) return undefined;
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(values, name);
  for (const slot of plain.slots) {
    if (slot.whole !== undefined) {
      if (!has(slot.whole)) return undefined;
    } else {
      for (const m of slot.text.matchAll(PLACEHOLDER)) if (!has(m[1])) return undefined;
    }
  }
  const out = JSON.parse(plain.text) as Record<string, unknown>;
  for (const slot of plain.slots) {
    let parent = out as Record<string | number, unknown>;
    const last = slot.path.length - 1;
    for (let i = 0; i < last; i++) parent = parent[slot.path[i]] as Record<string | number, unknown>;
    parent[slot.path[last]] =
      slot.whole !== undefined ? values[slot.whole] : slot.text.replace(PLACEHOLDER, (_m: string, name: string) => String(values[name]));
  }
  if (Object.prototype.hasOwnProperty.call(profile, 'templates')) out.templates = (profile as { templates?: unknown }).templates;
  return out;
}

/** True when JSON text of `v` reads back as the same data (no undefined, functions, Buffers, Dates, NaN, -0, holes, `__proto__`). */
function isPlainJson(v: unknown): boolean {
  let plain = true;
  try {
    JSON.stringify(v, function (this: unknown, key: string, x: unknown) {
      const orig = (this as Record<string, unknown>)[key];
      if (key === '__proto__') plain = false;
      if (orig === null) return x;
      switch (typeof orig) {
        case 'string':
        case 'boolean':
          return x;
        case 'number':
          if (!Number.isFinite(orig) || Object.is(orig, -0)) plain = false;
          return x;
        case 'object': {
          const proto: unknown = Object.getPrototypeOf(orig);
          if (!Array.isArray(orig) && proto !== Object.prototype && proto !== null) plain = false;
          return x;
        }
        default:
          plain = false;
          return x;
      }
    });
  } catch {
    return false;
  }
  return plain;
}

export interface ApplyTemplateOptions {
  /** The object model for re-validation (default: defaultModel). */
  model?: ObjectModel;
  /**
   * Names whose values never repeat (one-time credentials): a template that uses one is filled and checked
   * every time and its result not remembered (template-memo.ts), so that no such key outlives its session.
   */
  fresh?: readonly string[];
  /**
   * templateRecord(profile), when the caller took it in the same synchronous run of code (profile-lookup
   * reads the placeholder names from it, then fills): the template's text is not compared once more.
   */
  record?: TemplateRecord;
}

/**
 * A copy of `profile` with every placeholder filled from `values` over `profile.templates`, validated
 * as a resolved profile. Throws ProfileError with the pointer of each placeholder left without a value,
 * or of each value that makes the profile invalid.
 *
 * The same template (object and text) filled with the same values of its placeholders against the same
 * model gives the same ValidatedProfile, checked once (template-memo.ts); an invalid one is checked and
 * reported every time.
 */
export function applyTemplate(profile: BootstrapProfile, values: TemplateValues = {}, opts: ApplyTemplateOptions = {}): ValidatedProfile {
  for (const k in values) {
    if (!Object.prototype.hasOwnProperty.call(values, k)) continue;
    const v: unknown = values[k];
    const t = typeof v;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') {
      throw new ProfileError([{ pointer: '', message: `the value for \${${k}} must be a text, number or boolean, got ${v === null ? 'null' : t}` }], profile.name);
    }
  }
  const all: TemplateValues = { ...(profile.templates ?? {}), ...values };
  const model = opts.model ?? defaultModel;
  const record = opts.record ?? (profile && typeof profile === 'object' ? templateRecord(profile) : undefined);
  const key = record ? memoKey(record, all, model, opts.fresh) : undefined;
  if (key !== undefined) {
    const known = memoGet(key);
    if (known) return known;
  }
  const issues: ProfileIssue[] = [];
  const filled = fillByJson(profile, all, record) ?? fill(profile, all, '', issues);
  if (issues.length) throw new ProfileError(issues, profile.name);
  const checked = validatedProfile(filled, { model, name: profile.name });
  if (key !== undefined) memoSet(key, checked);
  return checked;
}

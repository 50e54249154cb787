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
import type { ObjectModel } from '../model/types';
import { pointer, ProfileError } from './errors';
import { PLACEHOLDER, WHOLE_PLACEHOLDER } from './placeholders';
import type { BootstrapProfile, ProfileIssue } from './types';
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

/**
 * fill() through JSON text: JSON.parse builds objects at their exact size (integer keys such as object
 * ids and resource ids would otherwise grow a holey backing store per object, ~0.6 KiB per filled
 * profile that a pending session holds) and costs less than the walk, which builds a pointer per value.
 * Only for plain JSON data: undefined when the profile holds anything JSON would change (undefined,
 * functions, Buffers and other objects, non-finite numbers, -0, holes, `__proto__` keys) or a
 * placeholder without a value, for which the walk gives the issues with their pointers.
 */
/** Profiles found plain JSON data, with their JSON text then (a profile from a store is filled per device). */
const plainTexts = new WeakMap<object, string>();

/** @internal exported for tests. */
export function fillByJson(profile: BootstrapProfile, values: TemplateValues): unknown {
  if (!profile || typeof profile !== 'object' || Array.isArray(profile)) return undefined;
  // The templates section is kept as it is, like fill() does: a mark stands in for it in the text.
  const hasTemplates = Object.prototype.hasOwnProperty.call(profile, 'templates');
  const shallow: Record<string, unknown> = hasTemplates ? { ...profile, templates: TEMPLATES_MARK } : (profile as unknown as Record<string, unknown>);
  let text: string | undefined;
  try {
    text = JSON.stringify(shallow);
  } catch {
    return undefined;
  }
  if (typeof text !== 'string') return undefined;
  if (plainTexts.get(profile) !== text) {
    if (!isPlainJson(shallow)) return undefined;
    plainTexts.set(profile, text);
  }
  let missing = false;
  const out = JSON.parse(text, (_key: string, v: unknown) => {
    if (typeof v !== 'string' || !v.includes('${')) return v;
    const whole = WHOLE_PLACEHOLDER.exec(v);
    if (whole) {
      if (Object.prototype.hasOwnProperty.call(values, whole[1])) return values[whole[1]];
      missing = true;
      return v;
    }
    return v.replace(PLACEHOLDER, (m: string, name: string) => {
      if (Object.prototype.hasOwnProperty.call(values, name)) return String(values[name]);
      missing = true;
      return m;
    });
  }) as Record<string, unknown>;
  if (missing) return undefined;
  if (hasTemplates) out.templates = (profile as { templates?: unknown }).templates;
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
}

/**
 * A copy of `profile` with every placeholder filled from `values` over `profile.templates`, validated
 * as a resolved profile. Throws ProfileError with the pointer of each placeholder left without a value,
 * or of each value that makes the profile invalid.
 */
export function applyTemplate(profile: BootstrapProfile, values: TemplateValues = {}, opts: ApplyTemplateOptions = {}): ValidatedProfile {
  for (const [k, v] of Object.entries(values)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      throw new ProfileError([{ pointer: '', message: `the value for \${${k}} must be a text, number or boolean, got ${v === null ? 'null' : typeof v}` }], profile.name);
    }
  }
  const all: TemplateValues = { ...(profile.templates ?? {}), ...values };
  const issues: ProfileIssue[] = [];
  const filled = fillByJson(profile, all) ?? fill(profile, all, '', issues);
  if (issues.length) throw new ProfileError(issues, profile.name);
  return validatedProfile(filled, { model: opts.model, name: profile.name });
}

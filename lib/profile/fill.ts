/**
 * Fills a profile's placeholders and validates the result (lib applyTemplate). CSV device tables and
 * environment variables carry text only; when the profile is invalid with those values as text, it is
 * tried once more with the numbers and booleans among them (e.g. "lifetime": "${lifetime}" and a CSV cell
 * 300) as typed values.
 */
import { ProfileError } from './errors';
import { applyTemplate, type ApplyTemplateOptions } from './template';
import type { BootstrapProfile } from './types';
import type { ValidatedProfile } from './validated';
import type { TemplateValue } from './values';

const NUMBER = /^-?(0|[1-9]\d{0,14})(\.\d+)?$/;

export function fillProfile(
  raw: Record<string, unknown>,
  values: Record<string, TemplateValue>,
  textKeys: string[] = [],
  opts: ApplyTemplateOptions = {},
): ValidatedProfile {
  try {
    return applyTemplate(raw as BootstrapProfile, values, opts);
  } catch (e) {
    if (!(e instanceof ProfileError) || textKeys.length === 0) throw e;
    const typed: Record<string, TemplateValue> = { ...values };
    let changed = false;
    for (const k of textKeys) {
      const v = values[k];
      if (typeof v !== 'string') continue;
      if (NUMBER.test(v) && v.replace(/^-/, '').length <= 12) {
        typed[k] = Number(v);
        changed = true;
      } else if (v === 'true' || v === 'false') {
        typed[k] = v === 'true';
        changed = true;
      }
    }
    if (!changed) throw e;
    try {
      return applyTemplate(raw as BootstrapProfile, typed, opts);
    } catch {
      throw e; // report the first attempt's issues: they name the text values as the table gave them
    }
  }
}

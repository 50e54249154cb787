/**
 * validateProfile: JSON Schema (profile.schema.json, draft 2020-12, through ajv) and then the semantic
 * checks of semantics.ts. Every problem comes back as a ProfileIssue: a JSON pointer into the profile and
 * a message in an operator's words, built from the schema's own descriptions.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { defaultModel } from '../model/registry';
import type { ObjectModel } from '../model/types';
import { pointer, ProfileError } from './errors';
import { findPlaceholders } from './placeholders';
import { SECRET_NOT_SHOWN, secretSlot, withoutSecretValues } from './redact';
import schema from './profile.schema.json';
import { semanticIssues } from './semantics';
import type { BootstrapProfile, ProfileIssue } from './types';

export { schema as profileSchema };

export type ValidateResult = { ok: true; profile: BootstrapProfile } | { ok: false; issues: ProfileIssue[] };

export interface ValidateOptions {
  /** The object model for resource values (default: defaultModel). */
  model?: ObjectModel;
  /** Report every `${…}` placeholder left (after applyTemplate). Default false: placeholders are allowed. */
  resolved?: boolean;
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

type SchemaNode = { description?: string; properties?: Record<string, SchemaNode>; [k: string]: unknown };

/** Every property name in the schema with the description of its first definition. */
const propertyDescriptions = new Map<string, string>();
(function collect(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const props = (node as SchemaNode).properties;
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v.description && !propertyDescriptions.has(k)) propertyDescriptions.set(k, v.description);
    }
  }
  for (const v of Object.values(node)) collect(v);
})(schema);

/** The first sentence of a description, starting lower-case, for use inside a message. */
function phrase(description: string | undefined): string {
  if (!description) return '';
  const first = description.split(/(?<=\.)\s+(?=[A-Z])/)[0].replace(/\.$/, '');
  return /^[A-Z][a-z]*(?=[\s,.:;(]|$)/.test(first) ? first[0].toLowerCase() + first.slice(1) : first;
}

/** The value an error is about, as an issue quotes it; a secret's is not quoted (lib/profile/redact.ts). */
function shown(e: ErrorObject): string {
  return secretSlot(e.instancePath) !== undefined ? SECRET_NOT_SHOWN : show(e.data);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 60) + '…' : s;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function suggestion(name: string): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of propertyDescriptions.keys()) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(k, name);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= 2 ? `; did you mean "${best}"?` : '';
}

function message(e: ErrorObject): string {
  const parent = e.parentSchema as SchemaNode | undefined;
  switch (e.keyword) {
    case 'required': {
      const prop = (e.params as { missingProperty: string }).missingProperty;
      const what = phrase(parent?.properties?.[prop]?.description ?? propertyDescriptions.get(prop));
      const lead = parent?.description && !parent.properties ? parent.description : 'missing';
      return `${lead} ${prop}${what ? ` (${what})` : ''}`;
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const p = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : (e.params as { unevaluatedProperty: string }).unevaluatedProperty;
      return `unknown property "${p}"${suggestion(p)}`;
    }
    case 'propertyNames':
      return `"${(e.params as { propertyName: string }).propertyName}" is not a valid key here: ${phrase(parent?.description) || 'ids are whole numbers 0..65535 written as text'}`;
    case 'enum':
      return `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(show).join(', ')}; got ${shown(e)}`;
    case 'type': {
      const t = (e.params as { type: string }).type;
      const what = t === 'integer' ? 'a whole number' : t === 'string' ? 'a text' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
      return `must be ${what}; got ${shown(e)}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${shown(e)} is out of range: ${phrase(parent?.description) || (e.message ?? '')}`;
    case 'pattern':
    case 'minLength':
      return `${shown(e)} is not valid: ${phrase(parent?.description) || (e.message ?? '')}`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}


/** Turns ajv's errors into operator issues, one per problem, collapsing the alternatives of anyOf. */
function schemaIssues(errors: ErrorObject[]): ProfileIssue[] {
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const issues: ProfileIssue[] = [];
  const seen = new Set<string>();
  const add = (pointer: string, msg: string) => {
    const key = pointer + '\0' + msg;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push({ pointer, message: msg });
    }
  };
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const at = e.instancePath;
    // Errors inside an anyOf: keep those deeper than the anyOf (the branch that fit the shape), drop the rest.
    const alt = alternatives.find((a) => a !== e && (at === a.instancePath || at.startsWith(a.instancePath + '/')));
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const deeper = errors.some((x) => x.instancePath.startsWith(at + '/') && x.keyword !== 'if');
      if (deeper) continue;
      const parent = e.parentSchema as SchemaNode | undefined;
      const enumErr = errors.find((x) => x.instancePath === at && x.keyword === 'enum');
      const allowed = enumErr ? `: one of ${((enumErr.params as { allowedValues: unknown[] }).allowedValues ?? []).map(show).join(', ')}` : '';
      add(at, `${shown(e)} is not valid here; expected ${phrase(parent?.description) || 'another form'}${allowed}`);
      continue;
    }
    if (alt && at === alt.instancePath) continue;
    const extra =
      e.keyword === 'additionalProperties'
        ? (e.params as { additionalProperty: string }).additionalProperty
        : e.keyword === 'unevaluatedProperties'
          ? (e.params as { unevaluatedProperty: string }).unevaluatedProperty
          : undefined;
    add(extra === undefined ? at : pointer(at, extra), message(e));
  }
  return issues;
}

/** Profile validations run in this process (schema and semantic checks), for tests and benchmarks. */
let validations = 0;
/** How many times validateProfile has run the schema and semantic checks since the process started. */
export function profileValidations(): number {
  return validations;
}

/**
 * Validates a profile: schema first, then (when the shape is right) the semantic checks.
 * `{ ok: true, profile }` or `{ ok: false, issues }`; never throws for bad input.
 */
export function validateProfile(json: unknown, opts: ValidateOptions = {}): ValidateResult {
  const model = opts.model ?? defaultModel;
  validations++;
  const validate = validator();
  if (!validate(json)) return { ok: false, issues: withoutSecretValues(json, schemaIssues(validate.errors ?? [])) };
  const profile = json as BootstrapProfile;
  const issues = withoutSecretValues(json, semanticIssues(profile, model));
  if (opts.resolved === true) {
    for (const p of findPlaceholders(profile)) {
      issues.push({ pointer: p.pointer, message: `the placeholder \${${p.name}} has no value; give it one in the device's values or in templates` });
    }
  }
  if (issues.length) return { ok: false, issues };
  return { ok: true, profile };
}

/** validateProfile that throws a ProfileError carrying the issues. */
export function assertProfile(json: unknown, opts: ValidateOptions = {}): BootstrapProfile {
  const r = validateProfile(json, opts);
  if (!r.ok) {
    const name = json && typeof json === 'object' && typeof (json as { name?: unknown }).name === 'string' ? (json as { name: string }).name : undefined;
    throw new ProfileError(r.issues, name);
  }
  return r.profile;
}

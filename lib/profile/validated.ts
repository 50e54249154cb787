/**
 * ValidatedProfile: a resolved profile (no `${…}` left) that passed validateProfile, made only here. A
 * bootstrap validates its profile once, where it enters the library (profile-lookup's fill, or
 * object-write for a profile a function node set), and hands the result on: planBootstrap,
 * buildBootstrapPack and runBootstrap take a ValidatedProfile, so the compiler refuses one that was not
 * checked, and they do not check it again.
 *
 * The brand is a type (a unique symbol no other module can name) and, at run time, membership of a
 * WeakMap that also records the object model it was checked against. A validated profile is frozen, deep:
 * it cannot become invalid after the check. A copy (RED.util.cloneMessage) is a plain object again and gets
 * checked once more where it reaches the library; a copy through JSON has "<redacted>" where the keys were
 * (lib/profile/redact.ts) and is refused there.
 *
 * profile-lookup hands users a read-only view of it (profileView, lib/profile/view.ts), so that an edit in
 * place throws instead of being lost; the view counts as the profile behind it here, and validatedProfile
 * returns that plain frozen object, so the library never reads through the proxy.
 */
import { defaultModel } from '../model/registry';
import type { ObjectModel } from '../model/types';
import { ProfileError } from './errors';
import type { BootstrapProfile } from './types';
import { validateProfile } from './validate';
import { REDACTING_PROTOTYPE } from './redact';
import { readOnlyView, viewTarget, type ReadOnlyViewOptions } from './view';

declare const VALIDATED: unique symbol;

/** A resolved profile found valid (validatedProfile); frozen. */
export type ValidatedProfile = BootstrapProfile & { readonly [VALIDATED]: true };

/** Validated profiles -> the object model they were checked against. */
const checkedWith = new WeakMap<object, ObjectModel>();

/** True when `p` is a profile validatedProfile returned (checked against `model`, default: any model). */
export function isValidatedProfile(p: unknown, model?: ObjectModel): p is ValidatedProfile {
  if (p === null || typeof p !== 'object') return false;
  const m = checkedWith.get(viewTarget(p));
  return m !== undefined && (model === undefined || m === model);
}

export interface ValidatedOptions {
  /** The object model for resource values (default: defaultModel). */
  model?: ObjectModel;
  /** The profile's name for the error, when the profile itself has none. */
  name?: string;
}

/**
 * `json` checked as a resolved profile and frozen, as a ValidatedProfile; a ProfileError naming every
 * problem otherwise. A profile already validated against the same model is returned as it is, unchecked.
 */
export function validatedProfile(json: unknown, opts: ValidatedOptions = {}): ValidatedProfile {
  const model = opts.model ?? defaultModel;
  const plain = viewTarget(json);
  if (isValidatedProfile(plain, model)) return plain;
  const r = validateProfile(plain, { model, resolved: true });
  if (!r.ok) {
    const own = plain && typeof plain === 'object' && typeof (plain as { name?: unknown }).name === 'string' ? (plain as { name: string }).name : undefined;
    throw new ProfileError(r.issues, own ?? opts.name);
  }
  deepFreeze(r.profile);
  checkedWith.set(r.profile, model);
  return r.profile as ValidatedProfile;
}

/**
 * A read-only view of a validated profile, for msg.profile: reads like the profile, throws a
 * ReadOnlyProfileError on any write (see lib/profile/view.ts); still a ValidatedProfile to the library.
 * Its JSON, and that of every copy RED.util.cloneMessage makes, hides the secrets (lib/profile/redact.ts).
 */
export function profileView(p: ValidatedProfile, opts: ReadOnlyViewOptions = {}): ValidatedProfile {
  return readOnlyView(p, { prototype: REDACTING_PROTOTYPE, ...opts });
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  for (const [k, x] of Object.entries(v)) {
    // A part of a read-only view inside a new profile (msg.profile = {...msg.profile, name: 'x'}): the
    // frozen object behind it instead, so that the library reads no proxy (and the view refuses freezing).
    const plain = viewTarget(x);
    if (plain !== x) (v as Record<string, unknown>)[k] = plain;
    deepFreeze(plain);
  }
  Object.freeze(v);
}

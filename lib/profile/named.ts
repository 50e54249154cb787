/**
 * The named profiles of a `lwm2m-bootstrap-profiles` config node: parsed from the JSON the operator wrote,
 * validated as written (placeholders such as `${pskKey}` are checked again after the template is filled at
 * run time), and looked up by name.
 */
import type { ProfileIssue } from './types';
import { validateProfile } from './validate';

export interface StoredProfile {
  name: string;
  /** The profile as written, placeholders unfilled. */
  raw: Record<string, unknown>;
  /** Problems found in the profile as written (placeholders excepted); empty when usable. */
  issues: ProfileIssue[];
}

export interface ParsedProfiles {
  profiles: Map<string, StoredProfile>;
  /** Problems of the whole text (not JSON, not an array, duplicate names), pointers from the document root. */
  issues: ProfileIssue[];
  /** Keys written literally into the profiles (so into the flow file): pointers of each, never the value. */
  literalSecrets: string[];
}

/** Profile fields that hold secret keys (Security /0/x/5 and the like). */
const SECRET_FIELDS = new Set(['pskKey', 'secretKey']);

/** Pointers of secret fields whose value is not (only) a placeholder, i.e. a key typed into the profile. */
export function literalSecretPointers(doc: unknown, at = ''): string[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => literalSecretPointers(v, `${at}/${i}`));
  if (!doc || typeof doc !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const ptr = `${at}/${escapePointer(k)}`;
    if (SECRET_FIELDS.has(k)) {
      const text = typeof v === 'string' ? v : v && typeof v === 'object' ? Object.values(v as Record<string, unknown>).join('') : '';
      if (text !== '' && !/^\$\{[^}]+\}$/.test(text.trim())) out.push(ptr);
    } else out.push(...literalSecretPointers(v, ptr));
  }
  return out;
}

/** Parses the editor's JSON: an array of profiles, each with a unique "name" (an object keyed by name works too). */
export function parseProfiles(text: string | undefined): ParsedProfiles {
  const out: ParsedProfiles = { profiles: new Map(), issues: [], literalSecrets: [] };
  if (text === undefined || text.trim() === '') return out;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    out.issues.push({ pointer: '', message: `not valid JSON: ${(e as Error).message}` });
    return out;
  }
  let entries: [string, unknown][];
  if (Array.isArray(data)) entries = data.map((p, i) => [String(i), p]);
  else if (data && typeof data === 'object') {
    entries = Object.entries(data as Record<string, unknown>).map(([k, v]) => [
      k,
      v && typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>).name === undefined
        ? { name: k, ...(v as Record<string, unknown>) }
        : v,
    ]);
  } else {
    out.issues.push({ pointer: '', message: 'profiles must be a JSON array of profiles' });
    return out;
  }
  for (const [where, p] of entries) {
    const ptr = '/' + escapePointer(where);
    if (!p || typeof p !== 'object' || Array.isArray(p)) {
      out.issues.push({ pointer: ptr, message: 'a profile must be a JSON object' });
      continue;
    }
    const raw = p as Record<string, unknown>;
    const name = typeof raw.name === 'string' ? raw.name.trim() : '';
    if (!name) {
      out.issues.push({ pointer: ptr + '/name', message: 'every profile needs a name' });
      continue;
    }
    if (out.profiles.has(name)) {
      out.issues.push({ pointer: ptr + '/name', message: `the name "${name}" is used twice` });
      continue;
    }
    out.literalSecrets.push(...literalSecretPointers(raw, ptr));
    const issues = validateAsWritten(raw);
    out.profiles.set(name, { name, raw, issues });
    for (const i of issues) out.issues.push({ pointer: ptr + i.pointer, message: i.message });
  }
  return out;
}

/**
 * Validates a profile that may still hold `${…}` placeholders: an issue about a value that is a
 * placeholder (or inside one) is left for the run-time check after the template is filled.
 */
export function validateAsWritten(raw: Record<string, unknown>): ProfileIssue[] {
  const res = validateProfile(raw);
  if (res.ok) return [];
  return res.issues.filter((i: ProfileIssue) => !placeholderAt(raw, i.pointer));
}

function placeholderAt(doc: unknown, pointer: string): boolean {
  let cur: unknown = doc;
  const parts = pointer.split('/').slice(1).map(unescapePointer);
  for (let i = 0; i <= parts.length; i++) {
    if (typeof cur === 'string') return cur.includes('${');
    if (cur && typeof cur === 'object' && JSON.stringify(cur).includes('${') && i === parts.length) {
      // An object whose fields hold placeholders (e.g. {"hex": "${key}"}): judged after filling.
      return true;
    }
    if (i === parts.length || !cur || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[parts[i]];
  }
  return false;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}
function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

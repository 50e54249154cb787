/**
 * The values that fill a profile's `${name}` placeholders, from lowest to highest precedence:
 * the profile's own "templates" defaults, Node-RED environment variables named by a placeholder,
 * secret values from the profiles config node, the device table row, the request itself
 * (endpoint, identity, peer, the listener's address it reached) and one-time credentials.
 *
 * A text value from the environment may itself hold placeholders of the request (e.g. DM_SERVER_URI set to
 * `coap://${serverHost}:5783`): they are filled once, so an operator can write such a URI outside the flow.
 */
import { PLACEHOLDER } from './placeholders';
import type { TemplateValues } from './template';
import { templateRecord, type TemplateRecord } from './template-memo';

export type TemplateValue = TemplateValues[string];

/** Values that come from the request itself, which environment and table text may refer to. */
const REQUEST_VALUES = new Set(['endpoint', 'identity', 'peerAddress', 'peerPort', 'serverAddress', 'serverHost', 'serverPort']);

/** Names of every placeholder in a JSON document (for a template object, found once per its text). */
export function placeholderNames(doc: unknown): string[] {
  if (doc && typeof doc === 'object') {
    const r = templateRecord(doc);
    if (r) return [...r.names];
  }
  const names = new Set<string>();
  const text = JSON.stringify(doc) ?? '';
  for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1]);
  return [...names];
}

export interface ValueSources {
  profileDefaults?: unknown;
  env?: (name: string) => string | undefined;
  secrets?: Record<string, string>;
  row?: Record<string, string>;
  request: {
    endpoint?: string;
    identity?: { id: string };
    peer?: { address: string; port: number };
    /** The listener's address the request was sent to (no address when the listener is bound to a wildcard). */
    local?: { address?: string; port: number };
  };
  oneTime?: { pskIdentity: string; pskKey: string };
}

export interface FilledValues {
  values: Record<string, TemplateValue>;
  /** Names whose value came as text from outside (environment, device table): numbers may hide in them. */
  textKeys: string[];
  /** Request values that a value refers to but this request has none of (e.g. serverHost on a wildcard listener). */
  unresolved: string[];
  /**
   * The template's record (its text as read now, its placeholder names): give it to fillProfile/applyTemplate
   * (`record`) in the same synchronous run of code, so that the template's text is not read a second time.
   */
  record?: TemplateRecord;
}

export function templateValues(doc: unknown, s: ValueSources): FilledValues {
  const record = doc && typeof doc === 'object' ? templateRecord(doc) : undefined;
  const v: Record<string, TemplateValue> = {};
  const textKeys: string[] = [];
  if (s.profileDefaults && typeof s.profileDefaults === 'object') {
    for (const [k, val] of Object.entries(s.profileDefaults as Record<string, unknown>)) {
      if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') v[k] = val;
    }
  }
  if (s.env) {
    for (const name of record ? record.names : placeholderNames(doc)) {
      const e = s.env(name);
      if (e !== undefined && e !== '') {
        v[name] = e;
        textKeys.push(name);
      }
    }
  }
  Object.assign(v, s.secrets ?? {}, s.row ?? {});
  textKeys.push(...Object.keys(s.row ?? {}));
  if (s.request.endpoint !== undefined) v.endpoint = s.request.endpoint;
  if (s.request.identity) v.identity = s.request.identity.id;
  if (s.request.peer) {
    v.peerAddress = s.request.peer.address;
    v.peerPort = s.request.peer.port;
  }
  if (s.request.local) {
    v.serverPort = s.request.local.port;
    if (s.request.local.address !== undefined) {
      v.serverAddress = s.request.local.address;
      v.serverHost = s.request.local.address.includes(':') ? `[${s.request.local.address}]` : s.request.local.address;
    }
  }
  if (s.oneTime) {
    v.pskIdentity = s.oneTime.pskIdentity;
    v.pskKey = s.oneTime.pskKey;
  }
  const unresolved = new Set<string>();
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string' && val.includes('${')) {
      v[k] = val.replace(PLACEHOLDER, (whole, name: string) => {
        if (!REQUEST_VALUES.has(name)) return whole;
        if (v[name] !== undefined) return String(v[name]);
        unresolved.add(name);
        return whole;
      });
    }
  }
  const out: FilledValues = { values: v, textKeys: textKeys.filter((k) => typeof v[k] === 'string'), unresolved: [...unresolved] };
  if (record) out.record = record;
  return out;
}

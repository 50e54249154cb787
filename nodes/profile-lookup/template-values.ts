/**
 * The values that fill a profile's `${name}` placeholders, from lowest to highest precedence:
 * the profile's own "templates" defaults, Node-RED environment variables named by a placeholder,
 * secret values from the profiles config node, the device table row, the request itself
 * (endpoint, identity, peer) and one-time credentials.
 */
export type TemplateValue = string | number | boolean;

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

/** Names of every placeholder in a JSON document. */
export function placeholderNames(doc: unknown): string[] {
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
  request: { endpoint?: string; identity?: { id: string }; peer?: { address: string; port: number } };
  oneTime?: { pskIdentity: string; pskKey: string };
}

export interface FilledValues {
  values: Record<string, TemplateValue>;
  /** Names whose value came as text from outside (environment, device table): numbers may hide in them. */
  textKeys: string[];
}

export function templateValues(doc: unknown, s: ValueSources): FilledValues {
  const v: Record<string, TemplateValue> = {};
  const textKeys: string[] = [];
  if (s.profileDefaults && typeof s.profileDefaults === 'object') {
    for (const [k, val] of Object.entries(s.profileDefaults as Record<string, unknown>)) {
      if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') v[k] = val;
    }
  }
  if (s.env) {
    for (const name of placeholderNames(doc)) {
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
  if (s.oneTime) {
    v.pskIdentity = s.oneTime.pskIdentity;
    v.pskKey = s.oneTime.pskKey;
  }
  return { values: v, textKeys: textKeys.filter((k) => typeof v[k] === 'string') };
}

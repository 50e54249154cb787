/**
 * Secrets in a profile, kept out of JSON. A resolved profile carries key material: the PSK or private key
 * of every account, SMS binding keys, an APN password, an OSCORE master secret. Node-RED's debug sidebar,
 * a file or MQTT node, a context store and most logging turn a message into JSON, so msg.profile (the
 * read-only view profile-lookup and object-write put there, and every copy RED.util.cloneMessage makes of
 * it) serializes with those values replaced by REDACTED. Reading a secret in code (msg.profile.servers[0]
 * .pskKey) still gives the value: the flow needs it. One-time credentials in msg.lwm2m.credentials are
 * redacted the same way (OneTimeCredentials).
 *
 * A profile that went through JSON and came back (JSON.parse(JSON.stringify(msg.profile))) holds REDACTED
 * where its keys were; redactedIssues reports that, so the library refuses to write the marker into a
 * device as if it were a key.
 *
 * Secret positions: the Security object's Secret Key (/0/x/5: pskKey, secretKey or `security["5"]`) and
 * SMS Binding Secret Key(s) (/0/x/8) of every account (OMA-TS-LightweightM2M_Core, E.1), the APN Connection
 * Profile's Secret (/11/x/6) and the OSCORE Master Secret (/21/x/0) (OMA LwM2M registry, objects 11 and 21).
 */
import type { ProfileIssue } from './types';

/** What a secret reads as in JSON. */
export const REDACTED = '<redacted>';

/** Account fields that hold key material. */
const ACCOUNT_FIELDS = ['pskKey', 'secretKey'] as const;
/** Security resources (by id) that hold key material, when given by number in `security`. */
const SECURITY_RESOURCES = ['5', '8'] as const;
/** Other objects' secret resources: object id -> resource ids. */
const OBJECT_RESOURCES: Readonly<Record<string, readonly string[]>> = { '11': ['6'], '21': ['0'] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every secret position in `p` that holds a value: its parent object, key and JSON pointer. */
function secretSlots(p: unknown): { parent: Obj; key: string; pointer: string }[] {
  const out: { parent: Obj; key: string; pointer: string }[] = [];
  if (!isObj(p)) return out;
  const account = (a: unknown, at: string): void => {
    if (!isObj(a)) return;
    for (const f of ACCOUNT_FIELDS) if (a[f] !== undefined) out.push({ parent: a, key: f, pointer: `${at}/${f}` });
    const sec = a.security;
    if (isObj(sec)) for (const r of SECURITY_RESOURCES) if (sec[r] !== undefined) out.push({ parent: sec, key: r, pointer: `${at}/security/${r}` });
  };
  if (Array.isArray(p.servers)) p.servers.forEach((s, i) => account(s, `/servers/${i}`));
  account(p.bootstrapServer, '/bootstrapServer');
  const objects = p.objects;
  if (isObj(objects)) {
    for (const [oid, ids] of Object.entries(OBJECT_RESOURCES)) {
      const list = objects[oid];
      if (!Array.isArray(list)) continue;
      list.forEach((inst, i) => {
        const res = isObj(inst) ? inst.resources : undefined;
        if (isObj(res)) for (const r of ids) if (res[r] !== undefined) out.push({ parent: res, key: r, pointer: `/objects/${oid}/${i}/resources/${r}` });
      });
    }
  }
  return out;
}

/** The secret slot (account key, Security 5 or 8, APN Secret, OSCORE Master Secret) a JSON pointer is at or inside. */
const SECRET_POINTER = /^(?:\/servers\/\d+|\/bootstrapServer)\/(?:pskKey|secretKey|security\/[58])(?=\/|$)|^\/objects\/(?:11\/\d+\/resources\/6|21\/\d+\/resources\/0)(?=\/|$)/;

/** The pointer of the secret slot `pointer` is at or inside; undefined when it is not a secret. */
export function secretSlot(pointer: string): string | undefined {
  return SECRET_POINTER.exec(pointer)?.[0];
}

/** What a profile check says of a secret's value instead of quoting it. */
export const SECRET_NOT_SHOWN = 'the value (a secret: not shown)';

function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const seg of pointer.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Obj)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

/** The texts a value's JSON spells (strings and numbers at any depth), for a leak check. */
function leaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number') out.push(String(v));
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) leaves(x, out);
  return out;
}

/**
 * Issues about a secret must not quote it: a key with one wrong digit is nearly the key, and issues reach
 * the log, node status and the editor. An issue at a secret slot whose message contains a piece of the
 * value (three characters or more, or the whole value) gets a message that names the slot's form instead.
 */
export function withoutSecretValues(doc: unknown, issues: ProfileIssue[]): ProfileIssue[] {
  return issues.map((issue) => {
    const slot = secretSlot(issue.pointer);
    if (slot === undefined) return issue;
    const texts = leaves(valueAt(doc, slot)).filter((t) => t.length >= 3 && t !== REDACTED);
    if (!texts.some((t) => issue.message.includes(t) || issue.message.includes(JSON.stringify(t).slice(1, -1)))) return issue;
    const text = /\/objects\/11\//.test(slot) ? 'a text' : 'bytes: {"hex": "…"} (pairs of hex digits), {"base64": "…"} or a text (its UTF-8 bytes)';
    return { pointer: issue.pointer, message: `${SECRET_NOT_SHOWN} is not valid here; give ${text}` };
  });
}

/** A plain deep copy of a JSON-like value (objects, arrays, primitives; Buffers as they are). */
function plainCopy(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(plainCopy);
  const o: Obj = {};
  for (const k of Object.keys(v)) o[k] = plainCopy((v as Obj)[k]);
  return o;
}

/** A plain copy of profile `p` with every secret replaced by REDACTED: what its JSON shows. */
export function redactedProfile(p: unknown): unknown {
  const copy = plainCopy(p);
  for (const s of secretSlots(copy)) s.parent[s.key] = REDACTED;
  return copy;
}

/** Issues for secrets that read REDACTED: the profile was copied through JSON, which drops its keys. */
export function redactedIssues(p: unknown): ProfileIssue[] {
  return secretSlots(p)
    .filter((s) => s.parent[s.key] === REDACTED)
    .map((s) => ({
      pointer: s.pointer,
      message:
        `the secret here reads "${REDACTED}": this profile was copied through JSON, which hides its keys; ` +
        'copy msg.profile with RED.util.cloneMessage instead, or set the key again',
    }));
}

/**
 * The prototype of msg.profile and of its copies: an Object whose toJSON gives the redacted profile. Its
 * toJSON is not enumerable, so `for…in`, Object.keys, spread and JSON Schema validation see only the
 * profile's own fields; lodash's cloneDeep (RED.util.cloneMessage) keeps the prototype, so a copy made for
 * a second wire is redacted too.
 */
export const REDACTING_PROTOTYPE: object = Object.freeze(
  Object.create(Object.prototype, {
    toJSON: {
      value: function toJSON(this: unknown): unknown {
        return redactedProfile(this);
      },
      enumerable: false,
    },
  }) as object,
);

/**
 * One-time PSK credentials on msg.lwm2m.credentials: the key reads as itself (a flow registers it with the
 * LwM2M server) and shows as REDACTED in JSON (the debug sidebar, files, logs). A copy made by
 * RED.util.cloneMessage keeps the class, and so the redaction.
 */
export class OneTimeCredentials {
  readonly secret = true as const;
  constructor(
    readonly pskIdentity: string,
    /** The key, hex. */
    readonly pskKey: string,
  ) {}
  toJSON(): { pskIdentity: string; pskKey: string; secret: true } {
    return { pskIdentity: this.pskIdentity, pskKey: REDACTED, secret: true };
  }
}

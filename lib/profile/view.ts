/**
 * A read-only view of a frozen object, for code outside the library that may try to change it: a Node-RED
 * function node runs in sloppy mode, where a write to a frozen object fails without a word and the edit is
 * lost. Through the view every write throws (set, delete, define, setPrototypeOf, preventExtensions), in any
 * mode, with a message that says how to change it instead; reads behave like the plain object (JSON,
 * Object.keys, spread, Array methods, lodash cloneDeep, which gives a plain, editable copy).
 *
 * Nested objects and arrays are wrapped when read, once per view (the same proxy on every read). Buffers and
 * typed arrays are handed out as they are. The library does not read through the view: viewTarget gives the
 * object behind it, and validatedProfile does so for a ValidatedProfile.
 *
 * A write refused inside a node that swallows errors (Node-RED's change node does, for msg properties) is
 * remembered: refusedEdit(view) returns the error, so the next node in the library's hands can fail loudly
 * instead of going on with the old value.
 */
import { pointerSegment } from './errors';

/** A write through a read-only view, refused; `pointer` is the JSON pointer it tried to change. */
export class ReadOnlyProfileError extends Error {
  constructor(
    message: string,
    readonly pointer: string,
    readonly operation: 'set' | 'delete' | 'define' | 'setPrototypeOf' | 'preventExtensions',
  ) {
    super(message);
    this.name = 'ReadOnlyProfileError';
  }
}

export interface ReadOnlyViewOptions {
  /** The error's text for a write at `pointer` ('' = the root); default: English, naming msg.profile. */
  message?: (pointer: string) => string;
  /**
   * The prototype the root view reports (default: the object's own), and where it finds what the object
   * does not have: profileView's gives toJSON (lib/profile/redact.ts). lodash's cloneDeep gives copies of the
   * view this prototype.
   */
  prototype?: object;
}

const DEFAULT_MESSAGE = (pointer: string): string =>
  `msg.profile is read-only: profile-lookup checked it${pointer ? ` (refused: a change to ${pointer})` : ''}. ` +
  'To change it, assign a copy and edit that, e.g. in a function node: msg.profile = RED.util.cloneMessage(msg.profile); ' +
  'then msg.profile.servers[0].pskKey = ...; object-write checks the copy again.';

interface ViewState {
  message: (pointer: string) => string;
  prototype?: object;
  /** Objects behind this view (the root and what was read from it) -> their proxies; made on the first nested read. */
  views?: WeakMap<object, object>;
  refused?: ReadOnlyProfileError;
}

/** One view (root or nested): the object it shows, where that is in the profile, its root's state. */
interface ViewRecord {
  target: object;
  pointer: string;
  state: ViewState;
}

/** Views (root and nested) -> their record. */
const byView = new WeakMap<object, ViewRecord>();
/** The proxies' own targets (shadows) -> the same record, for the traps, which get the shadow. */
const byShadow = new WeakMap<object, ViewRecord>();

/** A read-only view of `target` (see the file's comment). */
export function readOnlyView<T extends object>(target: T, opts: ReadOnlyViewOptions = {}): T {
  const state: ViewState = { message: opts.message ?? DEFAULT_MESSAGE, prototype: opts.prototype };
  return wrap(target, '', state) as T;
}

/** The object behind a view; anything else as it is. */
export function viewTarget<T>(v: T): T {
  return v !== null && typeof v === 'object' ? ((byView.get(v)?.target as T | undefined) ?? v) : v;
}

/** True for a view readOnlyView made (root or nested). */
export function isReadOnlyView(v: unknown): boolean {
  return v !== null && typeof v === 'object' && byView.has(v);
}

/** The first write refused through this view (or any view read from the same root), if any. */
export function refusedEdit(v: unknown): ReadOnlyProfileError | undefined {
  return v !== null && typeof v === 'object' ? byView.get(v)?.state.refused : undefined;
}

const hasOwn = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);

const childPointer = (r: ViewRecord, key: PropertyKey): string => `${r.pointer}/${pointerSegment(String(key))}`;

function refuse(r: ViewRecord, operation: ReadOnlyProfileError['operation'], key?: PropertyKey): never {
  const at = key === undefined || typeof key === 'symbol' ? r.pointer : childPointer(r, key);
  const err = new ReadOnlyProfileError(r.state.message(at), at, operation);
  r.state.refused ??= err;
  throw err;
}

const rec = (shadow: object): ViewRecord => byShadow.get(shadow)!;

/**
 * One handler for every view (a view's own data is its record, found from the shadow the traps get): a
 * handler of closures per view was ~0.6 KiB of heap for every session whose msg carries a profile.
 */
const HANDLER: ProxyHandler<object> = {
  get: (s, key, receiver) => {
    const r = rec(s);
    if (!hasOwn(r.target, key)) {
      const proto = r.pointer === '' ? r.state.prototype : undefined;
      return proto ? Reflect.get(proto, key, receiver) : Reflect.get(r.target, key);
    }
    const x: unknown = Reflect.get(r.target, key);
    return typeof key === 'symbol' ? x : wrap(x, childPointer(r, key), r.state);
  },
  has: (s, key) => {
    const r = rec(s);
    const proto = r.pointer === '' ? r.state.prototype : undefined;
    return proto ? hasOwn(r.target, key) || Reflect.has(proto, key) : Reflect.has(r.target, key);
  },
  ownKeys: (s) => Reflect.ownKeys(rec(s).target),
  getOwnPropertyDescriptor: (s, key) => {
    const r = rec(s);
    const d = Reflect.getOwnPropertyDescriptor(r.target, key);
    if (!d) return undefined;
    const own = Reflect.getOwnPropertyDescriptor(s, key);
    if (own && !own.configurable) return own; // an array's length: the copy's, which is the same
    return { value: typeof key === 'symbol' ? d.value : wrap(d.value, childPointer(r, key), r.state), writable: false, enumerable: d.enumerable, configurable: true };
  },
  getPrototypeOf: (s) => {
    const r = rec(s);
    return (r.pointer === '' ? r.state.prototype : undefined) ?? Reflect.getPrototypeOf(r.target);
  },
  isExtensible: (s) => Reflect.isExtensible(s),
  set: (s, key) => refuse(rec(s), 'set', key),
  // Deleting a property that is not there changes nothing (RED.util.cloneMessage deletes msg.req and msg.res).
  deleteProperty: (s, key) => {
    const r = rec(s);
    return hasOwn(r.target, key) ? refuse(r, 'delete', key) : true;
  },
  defineProperty: (s, key) => refuse(rec(s), 'define', key),
  setPrototypeOf: (s) => refuse(rec(s), 'setPrototypeOf'),
  preventExtensions: (s) => refuse(rec(s), 'preventExtensions'),
};

function wrap(v: unknown, pointer: string, state: ViewState): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  if (pointer !== '') {
    const known = state.views?.get(v);
    if (known) return known;
  }
  const target = v;
  // The proxy's own target is a shallow copy, never the frozen object: a proxy must report a frozen target's
  // properties exactly as they are, which would forbid handing out nested views. The copy satisfies the
  // proxy invariants and is what util.inspect shows; every trap answers from `target`.
  const shadow: object = Array.isArray(target) ? target.slice() : Object.assign(Object.create(Object.getPrototypeOf(target) as object | null) as object, target);
  const r: ViewRecord = { target, pointer, state };
  const view = new Proxy(shadow, HANDLER);
  byShadow.set(shadow, r);
  byView.set(view, r);
  if (pointer !== '') (state.views ??= new WeakMap()).set(target, view);
  return view;
}

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
}

const DEFAULT_MESSAGE = (pointer: string): string =>
  `msg.profile is read-only: profile-lookup checked it${pointer ? ` (refused: a change to ${pointer})` : ''}. ` +
  'To change it, assign a copy and edit that, e.g. in a function node: msg.profile = RED.util.cloneMessage(msg.profile); ' +
  'then msg.profile.servers[0].pskKey = ...; object-write checks the copy again.';

interface ViewState {
  message: (pointer: string) => string;
  /** Objects behind this view (the root and what was read from it) -> their proxies. */
  views: WeakMap<object, object>;
  refused?: ReadOnlyProfileError;
}

/** Views (root and nested) -> the object each one shows. */
const targets = new WeakMap<object, object>();
/** Views (root and nested) -> the state of the root view they belong to. */
const states = new WeakMap<object, ViewState>();

/** A read-only view of `target` (see the file's comment). */
export function readOnlyView<T extends object>(target: T, opts: ReadOnlyViewOptions = {}): T {
  const state: ViewState = { message: opts.message ?? DEFAULT_MESSAGE, views: new WeakMap() };
  return wrap(target, '', state) as T;
}

/** The object behind a view; anything else as it is. */
export function viewTarget<T>(v: T): T {
  return v !== null && typeof v === 'object' ? ((targets.get(v) as T | undefined) ?? v) : v;
}

/** True for a view readOnlyView made (root or nested). */
export function isReadOnlyView(v: unknown): boolean {
  return v !== null && typeof v === 'object' && targets.has(v);
}

/** The first write refused through this view (or any view read from the same root), if any. */
export function refusedEdit(v: unknown): ReadOnlyProfileError | undefined {
  return v !== null && typeof v === 'object' ? states.get(v)?.refused : undefined;
}

const hasOwn = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);

function wrap(v: unknown, pointer: string, state: ViewState): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  const known = state.views.get(v);
  if (known) return known;
  const target = v;
  const child = (key: PropertyKey): string => `${pointer}/${pointerSegment(String(key))}`;
  const refuse = (operation: ReadOnlyProfileError['operation'], key?: PropertyKey): never => {
    const at = key === undefined || typeof key === 'symbol' ? pointer : child(key);
    const err = new ReadOnlyProfileError(state.message(at), at, operation);
    state.refused ??= err;
    throw err;
  };
  // The proxy's own target is a shallow copy, never the frozen object: a proxy must report a frozen target's
  // properties exactly as they are, which would forbid handing out nested views. The copy satisfies the
  // proxy invariants and is what util.inspect shows; every trap below answers from `target`.
  const shadow: object = Array.isArray(target) ? target.slice() : Object.assign(Object.create(Object.getPrototypeOf(target) as object | null) as object, target);
  const view = new Proxy(shadow, {
    get: (_s, key) => {
      const x: unknown = Reflect.get(target, key);
      return typeof key === 'symbol' || !hasOwn(target, key) ? x : wrap(x, child(key), state);
    },
    has: (_s, key) => Reflect.has(target, key),
    ownKeys: () => Reflect.ownKeys(target),
    getOwnPropertyDescriptor: (s, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target, key);
      if (!d) return undefined;
      const own = Reflect.getOwnPropertyDescriptor(s, key);
      if (own && !own.configurable) return own; // an array's length: the copy's, which is the same
      return { value: typeof key === 'symbol' ? d.value : wrap(d.value, child(key), state), writable: false, enumerable: d.enumerable, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(target),
    isExtensible: (s) => Reflect.isExtensible(s),
    set: (_s, key) => refuse('set', key),
    // Deleting a property that is not there changes nothing (RED.util.cloneMessage deletes msg.req and msg.res).
    deleteProperty: (_s, key) => (hasOwn(target, key) ? refuse('delete', key) : true),
    defineProperty: (_s, key) => refuse('define', key),
    setPrototypeOf: () => refuse('setPrototypeOf'),
    preventExtensions: () => refuse('preventExtensions'),
  });
  state.views.set(target, view);
  targets.set(view, target);
  states.set(view, state);
  return view;
}

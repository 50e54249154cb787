/**
 * One status vocabulary for every node of the package:
 *   green dot   = listening / done
 *   yellow ring = working
 *   red ring    = failed
 * The caller passes text that is already translated (RED._), never a secret.
 *
 * Updates of the nodes on the bootstrap path are throttled per node: a burst of BURST goes out at once,
 * after that one per INTERVAL_MS, and the latest text always shows (a later update replaces one that is
 * waiting). A storm of bootstraps would otherwise send several status events per message to the runtime
 * and to every open editor. Only node types that set their status through this helper alone are
 * throttled (client-sim also sets a grey status directly, which a waiting update would overwrite).
 */
import type { Node } from 'node-red';

export type StatusKind = 'listening' | 'done' | 'working' | 'failed';

type Shown = { fill: 'green' | 'yellow' | 'red'; shape: 'dot' | 'ring'; text: string | (() => string) };

const LOOK: Record<StatusKind, { fill: 'green' | 'yellow' | 'red'; shape: 'dot' | 'ring' }> = {
  listening: { fill: 'green', shape: 'dot' },
  done: { fill: 'green', shape: 'dot' },
  working: { fill: 'yellow', shape: 'ring' },
  failed: { fill: 'red', shape: 'ring' },
};

/** At most one update per this many ms once the burst is used up. */
export const INTERVAL_MS = 250;
/** Updates that go out at once after a quiet spell (a single bootstrap shows every step). */
export const BURST = 8;

type StatusNode = Pick<Node, 'status'> & { type?: string };

/** The node types whose status is throttled. */
const THROTTLED = new Set(['lwm2m-bootstrap-listener', 'lwm2m-profile-lookup', 'lwm2m-object-write', 'lwm2m-bootstrap-finish']);

interface Throttle {
  /** Updates that may go out now (refilled at one per INTERVAL_MS, at most BURST). */
  tokens: number;
  at: number;
  pending: Shown | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A throttled node's state, on the node itself: read on every update (several per message in a storm), where a
 * WeakMap lookup hashes the node each time.
 */
const THROTTLE = Symbol('lwm2m status throttle');
type ThrottledNode = StatusNode & { [THROTTLE]?: Throttle };

function refill(s: Throttle, now: number): void {
  s.tokens = Math.min(BURST, s.tokens + (now - s.at) / INTERVAL_MS);
  s.at = now;
}

export function showStatus(node: StatusNode, kind: StatusKind, text: string): void {
  show(node, kind, text);
}

/**
 * showStatus with text made only when it goes out: a node that reports progress per message (a count in
 * flight) translates it once per shown update, not once per message, in a storm where the throttle drops
 * most of them. `text` is called at most once per update shown, with the state of that moment.
 */
export function showStatusLazy(node: StatusNode, kind: StatusKind, text: () => string): void {
  show(node, kind, text);
}

function out(node: StatusNode, s: Shown): void {
  node.status({ fill: s.fill, shape: s.shape, text: typeof s.text === 'function' ? s.text() : s.text });
}

function show(node: StatusNode, kind: StatusKind, text: string | (() => string)): void {
  const look = LOOK[kind];
  if (!THROTTLED.has(node.type as string)) {
    out(node, { fill: look.fill, shape: look.shape, text });
    return;
  }
  let s = (node as ThrottledNode)[THROTTLE];
  if (s !== undefined && s.timer !== undefined) {
    // One is waiting: this one replaces it (in place: in a storm this is nearly every update).
    const p = s.pending;
    if (p) {
      p.fill = look.fill;
      p.shape = look.shape;
      p.text = text;
    } else s.pending = { fill: look.fill, shape: look.shape, text };
    return;
  }
  // The clock only when an update may go out now (one waiting is replaced above without it).
  const now = Date.now();
  if (!s) {
    s = { tokens: BURST, at: now, pending: undefined, timer: undefined };
    (node as ThrottledNode)[THROTTLE] = s;
  }
  refill(s, now);
  const status: Shown = { fill: look.fill, shape: look.shape, text };
  if (s.tokens >= 1) {
    s.tokens -= 1;
    out(node, status);
    return;
  }
  s.pending = status;
  s.timer = setTimeout(flush, Math.ceil((1 - s.tokens) * INTERVAL_MS), node, s);
  s.timer.unref?.();
}

function flush(node: StatusNode, s: Throttle): void {
  s.timer = undefined;
  const p = s.pending;
  s.pending = undefined;
  if (!p) return;
  refill(s, Date.now());
  s.tokens = Math.max(0, s.tokens - 1);
  out(node, p);
}

/** Clears the status at once (and drops an update still waiting), e.g. on close. */
export function clearStatus(node: StatusNode): void {
  const s = (node as ThrottledNode)[THROTTLE];
  if (s) {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    s.pending = undefined;
  }
  node.status({});
}

/**
 * `lwm2m-object-write`: accepts the Bootstrap-Request (2.04) and runs the profile's operations against the
 * device — Delete, Write, Discover, Read — or one operation from msg.operation ("single" mode). A pack
 * request (kind 'pack') is answered with the whole profile as one SenML/LwM2M CBOR pack.
 * Output 1: ok. Output 2: error (a device error response, a timeout). Every step lands on msg.lwm2m.steps.
 *
 * On a device error (profile mode) the `onError` setting decides (see ./on-error.ts); the default ends the
 * session at once with REQUEST_FAILED, so every session gets its verdict without waiting for a timeout.
 * A message on the error output always carries msg.lwm2m.outcome, and msg.lwm2m.audit once the session ended.
 *
 * Packs: this node answers a Bootstrap-Pack-Request and sets msg.lwm2m.packAnswered; bootstrap-finish then
 * passes the message on instead of answering a second time.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  ContentFormat,
  contentFormatFor,
  nodeToJson,
  ProfileError,
  runBootstrap,
  SessionNotFoundError,
  SessionOutcome,
  type BootstrapProfile,
  type BootstrapSession,
  type RunBootstrapResult,
  isReadOnlyView,
  profileView,
} from '../shared/lib';
import { answerPack, checkedProfile } from '../shared/pack';
import { listenerFor, lwm2mInfo, type Lwm2mMsgInfo, type Lwm2mStep } from '../shared/session-ref';
import { translator } from '../shared/i18n';
import { quietMetrics } from '../shared/hops';
import { clearStatus, showStatus, showStatusLazy } from '../shared/status';
import { OperationError, requestFromOperation } from './single-op';
import { failureDetail, onErrorMode, type OnErrorMode } from './on-error';

interface WriteDef extends NodeDef {
  mode: 'profile' | 'single';
  /** 'end' (default), 'continue', 'finish'; flows saved before 'end' existed say 'stop' (= 'end'). */
  onError: string;
  requestTimeout: string;
}

interface StepsRun {
  steps: Lwm2mStep[];
  failed: Lwm2mStep | undefined;
}

type Msg = NodeMessageInFlow & { lwm2m?: Lwm2mMsgInfo; profile?: unknown; operation?: unknown; error?: unknown };

/**
 * One input message while this node works on it: what a session waiting on its device holds here (see the
 * input handler).
 */
interface Call {
  msg: Msg;
  /**
   * Node-RED's done() for this message, kept only where the runtime offers no node._complete (see
   * completer()); messages go out through node.send, which is what Node-RED's per-message send() calls.
   */
  done: ((err?: Error) => void) | undefined;
  /** The session of this message once found, so that one ending underneath the run can still be reported. */
  session: BootstrapSession | undefined;
  /** How many steps the session had recorded when this message came: the steps after it are this node's. */
  recorded: number;
  /** What comes after the wait (settle()). */
  then: ((c: Call, v: never) => void) | undefined;
}

export = function (RED: NodeAPI): void {
  function ObjectWriteNode(this: Node, config: WriteDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    quietMetrics(node); // Node-RED's per-message metric events, when they go nowhere (../shared/hops.ts)
    const t = translator(RED, 'lwm2m-object-write');
    const mode = config.mode === 'single' ? 'single' : 'profile';
    const onError: OnErrorMode = onErrorMode(config.onError);
    const timeoutS = Number(config.requestTimeout);
    const timeoutMs = Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS * 1000 : undefined;
    let inFlight = 0;

    // What a session waiting on its device holds here is heap for every pending session, so it is small:
    // one Call and one promise reaction with two bound functions (settle()). No suspended async function
    // (its frame, register file and the await's closures were ~400 B per pending session), and neither of
    // Node-RED's per-message send() and done() closures, which hold the message's receive event.
    const runOpts = { stopOnError: onError !== 'continue', requestTimeoutMs: timeoutMs };
    const complete = completer(node);

    node.on('input', (msg: Msg, _send: unknown, done: (err?: Error) => void) => {
      inFlight++;
      const keepDone = !complete || !!(node as { _inputCallbacks?: unknown })._inputCallbacks;
      const c: Call = { msg, done: keepDone ? done : undefined, session: undefined, recorded: 0, then: undefined };
      try {
        begin(c);
      } catch (e) {
        inFlight--;
        failed(c, e);
      }
    });

    /** Node-RED's done(err) for the message of `c`. */
    function finish(c: Call, err?: Error): void {
      if (c.done) c.done(err);
      else complete!(c.msg, err);
    }

    /** When `p` settles: `then(c, value)` (a throw goes to failed()), or failed() with its error. */
    function settle<T>(c: Call, p: Promise<T>, then: (c: Call, v: T) => void): void {
      c.then = then as (c: Call, v: never) => void;
      p.then(settled.bind(c), rejected.bind(c));
    }
    function settled(this: Call, v: unknown): void {
      inFlight--;
      const then = this.then!;
      this.then = undefined;
      try {
        then(this, v as never);
      } catch (e) {
        failed(this, e);
      }
    }
    function rejected(this: Call, e: unknown): void {
      inFlight--;
      this.then = undefined;
      failed(this, e);
    }

    /** Up to the wait: the pack answered, or the run of the session's steps started. */
    function begin(c: Call): void {
      const msg = c.msg;
      const info = lwm2mInfo(msg, t);
      const listener = listenerFor(RED, info);
      showStatusLazy(node, 'working', working);
      if (info.kind === 'pack') return settle(c, answerPack(listener, info, msg.profile), packAnswered);
      const session = listener.getSession(info.sessionId);
      c.session = session;
      c.recorded = session.stepCount;
      if (mode === 'single') return settle(c, single(session, msg, info, c.recorded), ended);
      const profile = checkedProfile(msg.profile);
      // Downstream, msg.profile stays a read-only view (an in-place edit after this node throws instead of
      // being lost in a function node's sloppy mode); a view from profile-lookup stays as it is.
      if (!isReadOnlyView(msg.profile)) msg.profile = profileView(profile, { message: (pointer) => t('errors.readOnly', { pointer: pointer || '/' }) });
      settle(c, runBootstrap(session, profile, runOpts), profileRan);
    }

    function packAnswered(c: Call, step: Lwm2mStep): void {
      const msg = c.msg;
      const info = msg.lwm2m as Lwm2mMsgInfo;
      info.steps.push(step);
      info.packAnswered = true;
      info.outcome = SessionOutcome.SUCCESS;
      msg.payload = t('payload.pack', { endpoint: info.endpoint });
      showStatus(node, 'done', t('status.pack'));
      node.send([msg, null]);
      finish(c);
    }

    /**
     * runBootstrap's result: the steps, and the first that failed. A refused Bootstrap-Discover is not a
     * failure: runBootstrap fell back to the layout of a device that was not asked (msg.lwm2m.discoveryRefused
     * says so).
     */
    function profileRan(c: Call, result: RunBootstrapResult): void {
      const session = c.session as BootstrapSession;
      const info = c.msg.lwm2m as Lwm2mMsgInfo;
      // runBootstrap's reading of Bootstrap-Discover is deep-frozen and shared by every session whose device
      // sent the same payload (lib/bootstrap/codec-port.ts): the message takes it as it is, read-only like
      // msg.lwm2m.peer and query (a deep copy was up to 5% of a storm's CPU; ARCHITECTURE.md says so).
      if (result.discovered) info.discovered = result.discovered;
      if (result.discoveryRefused) info.discoveryRefused = { ...result.discoveryRefused };
      const version = result.discovered?.lwm2mVersion ?? session.lwm2mVersion;
      if (version) info.lwm2mVersion = version;
      const steps = recordedSteps(session, c.recorded);
      ended(c, { steps, failed: (result.discoveryRefused ? steps.slice(1) : steps).find((s) => !s.success) });
    }

    /** The working status, translated only when it is shown (the status is throttled; see status.ts). */
    const working = (): string => t('status.working', { count: inFlight });

    /** The steps ran (some may have failed): the message goes on. */
    function ended(c: Call, run: StepsRun): void {
      const msg = c.msg;
      const info = msg.lwm2m as Lwm2mMsgInfo;
      const session = c.session as BootstrapSession;
      const steps = run.steps;
      info.steps.push(...steps);
      const failed = run.failed;
      if (failed) {
        msg.payload = t('payload.failed', { op: failed.op, path: failed.path, code: failed.code || failed.error || '?' });
        msg.error = { message: msg.payload, step: failed };
        if (mode === 'profile' && onError === 'finish') {
          showStatus(node, 'working', t('status.finishAnyway', { code: failed.code || t('status.noAnswer'), path: failed.path }));
          // The operator chose to let Bootstrap-Finish go anyway: the device checks its own state and
          // answers Finish 2.04 or 4.06, and bootstrap-finish gives the verdict.
          node.send([msg, null]);
          return finish(c);
        }
        showStatus(node, 'failed', t('status.failed', { code: failed.code || t('status.noAnswer'), path: failed.path }));
        if (mode === 'profile') {
          // The default and 'continue': the verdict now, with the device's code and diagnostic.
          session.end(SessionOutcome.REQUEST_FAILED, failureDetail(failed));
          info.audit = session.audit();
          info.outcome = session.outcome ?? SessionOutcome.REQUEST_FAILED;
        }
        node.send([null, msg]);
      } else {
        if (mode === 'profile') msg.payload = t('payload.ok', { endpoint: info.endpoint, count: steps.length });
        showStatus(node, 'done', t('status.ok', { count: steps.length }));
        node.send([msg, null]);
      }
      finish(c);
    }

    function failed(c: Call, e: unknown): void {
      const { msg, session, recorded } = c;
      const err = e instanceof Error ? e : new Error(String(e));
      // (A session that had ended before this message came is a SessionNotFoundError: no audit then.)
      const ended = session !== undefined && session.state === 'ended' ? session : undefined;
      if (ended && !(err instanceof SessionNotFoundError) && !(err instanceof ProfileError) && !(err instanceof OperationError)) {
        // The device went away (timeout, Reset) or a newer request cancelled the session: the error output.
        const info = msg.lwm2m as Lwm2mMsgInfo;
        info.outcome = ended.outcome;
        info.audit = ended.audit(); // a detached copy of plain data
        info.steps.push(...recordedSteps(ended, recorded));
        msg.payload = err.message;
        msg.error = { message: err.message, code: (err as { code?: string }).code };
        showStatus(node, 'failed', t('status.ended', { outcome: String(ended.outcome) }));
        node.send([null, msg]);
        finish(c);
        return;
      }
      if (err instanceof ProfileError && mode === 'profile' && session && session.state !== 'ended') {
        // The device cannot be configured from an invalid profile: its verdict now (5.00, so it tries again
        // later), not at the decision timeout. The error still goes to done(), for a Catch node.
        if (session.state === 'pending') void session.reject('5.00', undefined, SessionOutcome.INTERNAL_ERROR).catch(() => undefined);
        else session.end(SessionOutcome.INTERNAL_ERROR, 'invalid profile');
      }
      showStatus(node, 'failed', err instanceof SessionNotFoundError ? t('status.noSession') : t('status.error'));
      finish(c, err);
    }

    async function single(session: BootstrapSession, msg: Msg, info: Lwm2mMsgInfo, recorded: number): Promise<StepsRun> {
      await singleStep(session, msg, info);
      const steps = recordedSteps(session, recorded);
      return { steps, failed: steps.find((s) => !s.success) };
    }

    /** Sends the message's operation; its step is in the session's record. */
    async function singleStep(session: BootstrapSession, msg: Msg, info: Lwm2mMsgInfo): Promise<void> {
      await session.accept();
      const profile = msg.profile !== undefined && msg.profile !== null ? checkedProfile(msg.profile) : undefined;
      const cf = writeFormat(profile, session.preferredContentFormat);
      const req = requestFromOperation(msg.operation, cf);
      try {
        const res = await session.send(req, timeoutMs ? { timeoutMs } : undefined);
        if (res.discover) info.discovered = plainCopy(res.discover);
        if (res.discover?.lwm2mVersion) info.lwm2mVersion = res.discover.lwm2mVersion;
        if (res.node) msg.payload = nodeToJson(res.node, { maskSecrets: true, path: req.type === 'BootstrapFinishRequest' ? undefined : req.path });
        else if (res.discover) msg.payload = plainCopy(res.discover);
        else msg.payload = t('payload.single', { op: req.op, path: req.target, code: res.code });
      } catch (e) {
        if (session.state !== 'ended') throw e;
      }
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      clearStatus(node);
      done();
    });
  }

  RED.nodes.registerType('lwm2m-object-write', ObjectWriteNode);
};

/**
 * Node-RED's done(err) without the per-message closure: done is `node._complete(msg, err)` when the node has
 * one input handler (Node-RED 1 to 4, @node-red/runtime Node.prototype._emitInput; with several, done is
 * kept), and holding done would
 * keep its closure, the message's receive event and its destination alive while the device answers (~200 B
 * per pending session). Undefined where the runtime has no _complete: done itself is kept then.
 */
function completer(node: Node): ((msg: unknown, err?: Error) => void) | undefined {
  const n = node as Node & { _complete?: (msg: unknown, err?: Error) => void };
  if (typeof n._complete !== 'function') return undefined;
  return (msg, err) => {
    n._complete!(msg, err);
  };
}

/** Write format: the profile's contentFormat, else the client's pct, else TLV. */
function writeFormat(profile: BootstrapProfile | undefined, pct: number | undefined): number {
  return profile ? contentFormatFor(profile, pct) : (pct ?? ContentFormat.TLV);
}

/**
 * The session's record of the steps after the first `already` (a detached copy), less those a retry stands
 * for. stepsSince copies already: the copies are the message's, without a second copy per step (a rest
 * spread per step was ~1% of a storm's CPU).
 */
function recordedSteps(session: BootstrapSession, already: number): Lwm2mStep[] {
  const out: Lwm2mStep[] = [];
  for (const s of session.stepsSince(already)) {
    if (s.superseded) continue;
    if ('superseded' in s) delete s.superseded;
    out.push(s);
  }
  return out;
}

/**
 * A deep copy of plain data (objects, arrays, numbers, strings: what a Bootstrap-Discover reading is), for
 * the message. structuredClone goes through V8's serializer and was 3% of a bootstrap storm's CPU profile.
 */
function plainCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(plainCopy) as T;
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = plainCopy((v as Record<string, unknown>)[k]);
    return o as T;
  }
  return v;
}

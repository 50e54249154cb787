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
  isReadOnlyView,
  profileView,
} from '../shared/lib';
import { answerPack, checkedProfile } from '../shared/pack';
import { listenerFor, lwm2mInfo, type Lwm2mMsgInfo, type Lwm2mStep } from '../shared/session-ref';
import { translator } from '../shared/i18n';
import { clearStatus, showStatus } from '../shared/status';
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

/** One input message while this node works on it. */
interface Call {
  msg: Msg;
  send: (msgs: (Msg | null)[]) => void;
  done: (err?: Error) => void;
  /** The session of this message once found, so that one ending underneath the run can still be reported. */
  session: BootstrapSession | undefined;
  /** How many steps the session had recorded when this message came: the steps after it are this node's. */
  recorded: number;
}


export = function (RED: NodeAPI): void {
  function ObjectWriteNode(this: Node, config: WriteDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = translator(RED, 'lwm2m-object-write');
    const mode = config.mode === 'single' ? 'single' : 'profile';
    const onError: OnErrorMode = onErrorMode(config.onError);
    const timeoutS = Number(config.requestTimeout);
    const timeoutMs = Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS * 1000 : undefined;
    let inFlight = 0;

    // The handler that waits on the device keeps few locals: a suspended async function holds its whole
    // register file, heap for every session waiting on a device. What it does before and after the wait is
    // in begin(), ended() and failed().
    node.on('input', async (msg: Msg, send, done) => {
      inFlight++;
      const c: Call = { msg, send, done, session: undefined, recorded: 0 };
      try {
        const run = await begin(c);
        if (run) ended(c, run);
      } catch (e) {
        failed(c, e);
      } finally {
        inFlight--;
      }
    });

    /** Up to the wait: the pack answered, or the run of the session's steps started. */
    function begin(c: Call): Promise<StepsRun | undefined> {
      const msg = c.msg;
      const info = lwm2mInfo(msg, t);
      const listener = listenerFor(RED, info);
      showStatus(node, 'working', t('status.working', { count: inFlight }));
      if (info.kind === 'pack') {
        return answerPack(listener, info, msg.profile).then((step) => {
          info.steps.push(step);
          info.packAnswered = true;
          info.outcome = SessionOutcome.SUCCESS;
          msg.payload = t('payload.pack', { endpoint: info.endpoint });
          showStatus(node, 'done', t('status.pack'));
          c.send([msg, null]);
          c.done();
          return undefined;
        });
      }
      const session = listener.getSession(info.sessionId);
      c.session = session;
      c.recorded = session.stepCount;
      return mode === 'single' ? single(session, msg, info, c.recorded) : fromProfile(session, msg, info, c.recorded);
    }

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
          c.send([msg, null]);
          return c.done();
        }
        showStatus(node, 'failed', t('status.failed', { code: failed.code || t('status.noAnswer'), path: failed.path }));
        if (mode === 'profile') {
          // The default and 'continue': the verdict now, with the device's code and diagnostic.
          session.end(SessionOutcome.REQUEST_FAILED, failureDetail(failed));
          info.audit = session.audit();
          info.outcome = session.outcome ?? SessionOutcome.REQUEST_FAILED;
        }
        c.send([null, msg]);
      } else {
        if (mode === 'profile') msg.payload = t('payload.ok', { endpoint: info.endpoint, count: steps.length });
        showStatus(node, 'done', t('status.ok', { count: steps.length }));
        c.send([msg, null]);
      }
      c.done();
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
        c.send([null, msg]);
        c.done();
        return;
      }
      if (err instanceof ProfileError && mode === 'profile' && session && session.state !== 'ended') {
        // The device cannot be configured from an invalid profile: its verdict now (5.00, so it tries again
        // later), not at the decision timeout. The error still goes to done(), for a Catch node.
        if (session.state === 'pending') void session.reject('5.00', undefined, SessionOutcome.INTERNAL_ERROR).catch(() => undefined);
        else session.end(SessionOutcome.INTERNAL_ERROR, 'invalid profile');
      }
      showStatus(node, 'failed', err instanceof SessionNotFoundError ? t('status.noSession') : t('status.error'));
      c.done(err);
    }

    /**
     * The steps, and the first that failed. A refused Bootstrap-Discover is not a failure: runBootstrap fell
     * back to the layout of a device that was not asked (msg.lwm2m.discoveryRefused says so).
     * (A promise chain, not an async function: its frame would be heap for every session waiting on a device.)
     */
    function fromProfile(session: BootstrapSession, msg: Msg, info: Lwm2mMsgInfo, recorded: number): Promise<StepsRun> {
      const profile = checkedProfile(msg.profile);
      // Downstream, msg.profile stays a read-only view (an in-place edit after this node throws instead of
      // being lost in a function node's sloppy mode); a view from profile-lookup stays as it is.
      if (!isReadOnlyView(msg.profile)) msg.profile = profileView(profile, { message: (pointer) => t('errors.readOnly', { pointer: pointer || '/' }) });
      return runBootstrap(session, profile, { stopOnError: onError !== 'continue', requestTimeoutMs: timeoutMs }).then((result) => {
        if (result.discovered) info.discovered = plainCopy(result.discovered);
        if (result.discoveryRefused) info.discoveryRefused = { ...result.discoveryRefused };
        const version = result.discovered?.lwm2mVersion ?? session.lwm2mVersion;
        if (version) info.lwm2mVersion = version;
        const steps = recordedSteps(session, recorded);
        return { steps, failed: (result.discoveryRefused ? steps.slice(1) : steps).find((s) => !s.success) };
      });
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

/** Write format: the profile's contentFormat, else the client's pct, else TLV. */
function writeFormat(profile: BootstrapProfile | undefined, pct: number | undefined): number {
  return profile ? contentFormatFor(profile, pct) : (pct ?? ContentFormat.TLV);
}

/** The session's record of the steps after the first `already` (a detached copy), less those a retry stands for. */
function recordedSteps(session: BootstrapSession, already: number): Lwm2mStep[] {
  return session
    .stepsSince(already)
    .filter((s) => !s.superseded)
    .map(({ superseded: _superseded, ...s }) => s);
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

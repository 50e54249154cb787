/**
 * `lwm2m-bootstrap-finish`: ends a bootstrap.
 *  - finish mode: sends Bootstrap-Finish (POST /bs). Output 1 success (2.04), output 2 failure (e.g. 4.06
 *    with the client's diagnostic text), output 3 timeout. A pack request is answered with the profile's pack.
 *  - reject mode: answers the pending Bootstrap-Request (or pack request) with the chosen error code and
 *    ends it with the chosen outcome ('auto': NO_BOOTSTRAP_CONFIG after profile-lookup's "not found"
 *    output, else REJECTED).
 * Either way the session is closed and msg.lwm2m.audit holds its audit record (no secrets).
 *
 * Packs: whoever answers a Bootstrap-Pack-Request first marks msg.lwm2m.packAnswered (object-write does);
 * this node then passes the message to its success output and answers a pack only when nobody has.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { SessionNotFoundError, SessionOutcome, type BootstrapSession } from '../shared/lib';
import { answerPack } from '../shared/pack';
import { listenerFor, lwm2mInfo, type ListenerNode, type Lwm2mMsgInfo, type Lwm2mStep } from '../shared/session-ref';
import { translator } from '../shared/i18n';
import { quietMetrics } from '../shared/hops';
import { clearStatus, showStatus } from '../shared/status';
import { isTimeout } from './timeouts';

interface FinishDef extends NodeDef {
  mode: 'finish' | 'reject';
  rejectCode: string;
  diagnostic: string;
  diagnosticType: string;
  timeout: string;
  /** 'auto' (default), 'REJECTED', 'UNAUTHORIZED', 'NO_BOOTSTRAP_CONFIG'. */
  rejectOutcome?: string;
}

type Msg = NodeMessageInFlow & { lwm2m?: Lwm2mMsgInfo; profile?: unknown };

const REJECT_CODES = ['4.00', '4.01', '4.03', '4.04', '4.06', '4.15', '5.00', '5.03'];
const REJECT_OUTCOMES = ['auto', SessionOutcome.REJECTED, SessionOutcome.UNAUTHORIZED, SessionOutcome.NO_BOOTSTRAP_CONFIG] as const;
type RejectOutcome = (typeof REJECT_OUTCOMES)[number];

export = function (RED: NodeAPI): void {
  function BootstrapFinishNode(this: Node, config: FinishDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    quietMetrics(node); // Node-RED's per-message metric events, when they go nowhere (../shared/hops.ts)
    const t = translator(RED, 'lwm2m-bootstrap-finish');
    const mode = config.mode === 'reject' ? 'reject' : 'finish';
    const code = REJECT_CODES.includes(config.rejectCode) ? config.rejectCode : '4.03';
    const diagnosticType = ['str', 'msg', 'env'].includes(config.diagnosticType) ? config.diagnosticType : 'str';
    /** The diagnostic text for a rejection: literal, from the message (e.g. an authorization service's reason) or env. */
    const diagnosticFor = (msg: Msg): string | undefined => {
      if (!config.diagnostic) return undefined;
      const v = RED.util.evaluateNodeProperty(config.diagnostic, diagnosticType, node, msg) as unknown;
      const text = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      return text.trim() ? text.trim().slice(0, 256) : undefined;
    };
    const rejectOutcome: RejectOutcome = (REJECT_OUTCOMES as readonly string[]).includes(config.rejectOutcome ?? '')
      ? (config.rejectOutcome as RejectOutcome)
      : 'auto';
    /** The outcome of a rejection: the chosen one, or for 'auto' NO_BOOTSTRAP_CONFIG when profile-lookup found none. */
    const outcomeFor = (info: Lwm2mMsgInfo): SessionOutcome => {
      if (rejectOutcome !== 'auto') return rejectOutcome;
      return (info as Lwm2mMsgInfo & { notFound?: unknown }).notFound ? SessionOutcome.NO_BOOTSTRAP_CONFIG : SessionOutcome.REJECTED;
    };
    const timeoutS = Number(config.timeout);
    const timeoutMs = Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS * 1000 : undefined;
    if (config.rejectCode && !REJECT_CODES.includes(config.rejectCode)) node.error(t('errors.badCode', { code: config.rejectCode }));

    node.on('input', async (msg: Msg, send, done) => {
      try {
        const info = lwm2mInfo(msg, t);
        const listener = listenerFor(RED, info);
        if (endedUpstream(listener, info)) {
          // object-write gave the verdict already (e.g. REQUEST_FAILED) and flows from before that wire its
          // error output here: pass the message on with that verdict, no second one and no error.
          showStatus(node, info.outcome === SessionOutcome.SUCCESS ? 'done' : 'failed', t('status.ended', { outcome: String(info.outcome) }));
          if (mode === 'reject') send(msg);
          else send(info.outcome === SessionOutcome.SUCCESS ? [msg, null, null] : info.outcome === SessionOutcome.TIMEOUT ? [null, null, msg] : [null, msg, null]);
          return done();
        }
        if (mode === 'reject') {
          await reject(listener, info, diagnosticFor(msg));
          msg.payload = t('payload.rejected', { endpoint: info.endpoint, code });
          showStatus(node, 'done', t('status.rejected', { code }));
          send(msg);
          return done();
        }
        if (info.kind === 'pack') {
          if (info.packAnswered) {
            // Answered upstream (object-write): one success message, no second answer.
            showStatus(node, 'done', t('status.pack'));
            send([msg, null, null]);
            return done();
          }
          info.steps.push(await answerPack(listener, info, msg.profile));
          info.packAnswered = true;
          info.outcome = SessionOutcome.SUCCESS;
          msg.payload = t('payload.pack', { endpoint: info.endpoint });
          showStatus(node, 'done', t('status.pack'));
          send([msg, null, null]);
          return done();
        }
        const session = listener.getSession(info.sessionId);
        showStatus(node, 'working', t('status.finishing'));
        let res;
        try {
          res = await session.finish(timeoutMs ? { timeoutMs } : undefined);
        } catch (e) {
          if (e instanceof SessionNotFoundError || !isTimeout(e)) throw e;
          info.steps.push(...finishStep(session));
          closeWith(listener, session, info, SessionOutcome.TIMEOUT);
          msg.payload = t('payload.timeout', { endpoint: info.endpoint });
          showStatus(node, 'failed', t('status.timeout'));
          send([null, null, msg]);
          return done();
        }
        const diag = res.diagnostic ?? (res.payload && res.payload.length ? res.payload.toString('utf8') : undefined);
        info.steps.push(...finishStep(session));
        if (res.success) {
          closeWith(listener, session, info, SessionOutcome.SUCCESS);
          msg.payload = t('payload.success', { endpoint: info.endpoint });
          showStatus(node, 'done', t('status.success'));
          send([msg, null, null]);
        } else {
          closeWith(listener, session, info, SessionOutcome.FINISH_FAILED);
          msg.payload = { code: res.code, diagnostic: diag ?? '' };
          showStatus(node, 'failed', t('status.failure', { code: res.code }));
          send([null, msg, null]);
        }
        done();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        showStatus(node, 'failed', err instanceof SessionNotFoundError ? t('status.noSession') : t('status.error'));
        done(err);
      }
    });

    async function reject(listener: ListenerNode, info: Lwm2mMsgInfo, diagnostic: string | undefined): Promise<void> {
      if (info.kind === 'pack') {
        const req = listener.getPackRequest(info.sessionId);
        const outcome = outcomeFor(info);
        await req.reject(code, diagnostic, outcome);
        listener.releasePackRequest(info.sessionId);
        info.packAnswered = true;
        info.outcome = outcome;
        return;
      }
      const session = listener.getSession(info.sessionId);
      const outcome = outcomeFor(info);
      if (session.state === 'pending') await session.reject(code, diagnostic, outcome);
      else session.end(outcome, diagnostic ? `${code} ${diagnostic}` : code); // accepted already: stop it
      closeWith(listener, session, info, outcome);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      clearStatus(node);
      done();
    });
  }

  /** True when the message carries the verdict of a session that has ended (its audit record), not a live one. */
  function endedUpstream(listener: ListenerNode, info: Lwm2mMsgInfo): boolean {
    if (info.kind === 'pack' || !info.outcome || !info.audit) return false;
    try {
      return listener.getSession(info.sessionId).state === 'ended';
    } catch (e) {
      if (e instanceof SessionNotFoundError) return true;
      throw e;
    }
  }

  /** Ends the session (if the library has not already) and puts its audit record on the message. */
  /**
   * The session's outcome and audit record onto the message. The library has ended the session already
   * (finish() with SUCCESS or FINISH_FAILED, a request timeout with TIMEOUT): its outcome is the one recorded.
   */
  function closeWith(listener: ListenerNode, session: BootstrapSession, info: Lwm2mMsgInfo, outcome: SessionOutcome): void {
    if (session.state !== 'ended') session.end(outcome);
    // A detached copy of plain data: of the record the listener saw at the session's end, when it has one.
    const audit = listener.auditOf ? listener.auditOf(session) : session.audit();
    info.audit = audit;
    info.outcome = audit.outcome ?? outcome;
  }

  /** Bootstrap-Finish's step as the library recorded it (the last one). */
  function finishStep(session: BootstrapSession): Lwm2mStep[] {
    const last = session.lastStep();
    return last?.op === 'finish' ? [last] : [];
  }

  RED.nodes.registerType('lwm2m-bootstrap-finish', BootstrapFinishNode);
};

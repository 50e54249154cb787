/**
 * `lwm2m-bootstrap-listener`: owns one Bootstrap-Server (and so one UDP socket) and sends one message per
 * Bootstrap-Request or Bootstrap-Pack-Request. Messages carry ids only; object-write, bootstrap-finish and
 * profile-lookup find the live session through this node (RED.nodes.getNode(msg.lwm2m.listenerId)).
 */
import type { NodeAPI, NodeDef } from 'node-red';
import type { BootstrapPackRequest, BootstrapServer, BootstrapSession } from '../shared/lib';
import { intOr, stringOr } from '../shared/env';
import type { ListenerNode, Lwm2mMsgInfo } from '../shared/session-ref';
import { PackRequestNotFoundError, sessionNotFound } from '../shared/session-ref';
import { translator } from '../shared/i18n';
import { clearStatus, showStatus } from '../shared/status';
import { createBootstrapServer, DEFAULT_PORT, type ListenerSettings } from './transport';

interface ListenerDef extends NodeDef {
  transport: string;
  address: string;
  port: string;
  decisionTimeout: string;
  decisionCode: string;
  packTimeout: string;
  packCode: string;
  requestTimeout: string;
  sessionTimeout: string;
  maxSessions: string;
}

const CODE = /^[45]\.\d\d$/;

export = function (RED: NodeAPI): void {
  function BootstrapListenerNode(this: ListenerNode, config: ListenerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = translator(RED, 'lwm2m-bootstrap-listener');

    const read = readSettings(config);
    if (typeof read === 'string') {
      node.error(t(`errors.${read}`));
      showStatus(node, 'failed', t(`status.badConfig`));
      node.on('close', (_r: boolean, done: () => void) => {
        clearStatus(node);
        done();
      });
      return;
    }

    const settings: ListenerSettings = read;
    let server: BootstrapServer | undefined;
    const packRequests = new Map<string, { req: BootstrapPackRequest; timer: NodeJS.Timeout }>();
    let lastOutcome: string | undefined;
    let port = settings.port;

    const logger = {
      debug: (m: string) => node.debug(m),
      info: (m: string) => node.log(m),
      warn: (m: string) => node.warn(m),
      error: (m: string) => node.error(m),
    };

    function refreshStatus(): void {
      if (!server) return;
      const inFlight = server.stats().sessionsInFlight;
      const parts = [t('status.listening', { port })];
      if (inFlight > 0) parts.push(t('status.inFlight', { count: inFlight }));
      if (lastOutcome) parts.push(t('status.last', { outcome: t(`outcome.${lastOutcome}`) }));
      showStatus(node, 'listening', parts.join(' · '));
    }

    node.listenerSettings = settings;
    node.getSession = (id: string): BootstrapSession => {
      const s = server?.getSession(id);
      if (!s) throw sessionNotFound(id);
      return s;
    };
    node.getPackRequest = (id: string): BootstrapPackRequest => {
      const p = packRequests.get(id);
      if (!p) throw new PackRequestNotFoundError(id);
      return p.req;
    };
    node.releasePackRequest = (id: string) => {
      const p = packRequests.get(id);
      if (p) clearTimeout(p.timer);
      packRequests.delete(id);
    };

    function start(): void {
      server = createBootstrapServer(settings, logger);
      server.on('bootstrapRequest', (session: BootstrapSession) => {
        try {
          const info: Lwm2mMsgInfo = {
            sessionId: session.id,
            listenerId: node.id,
            endpoint: session.endpoint,
            kind: 'bootstrap',
            preferredContentFormat: session.preferredContentFormat,
            peer: { ...session.peer },
            identity: session.identity ? { ...session.identity } : undefined,
            query: { ...session.query },
            steps: [],
          };
          node.send({ topic: session.endpoint, payload: t('payload.bootstrap', { endpoint: session.endpoint }), lwm2m: info });
          refreshStatus();
        } catch (e) {
          node.error(e instanceof Error ? e.message : String(e));
        }
      });
      server.on('sessionEnded', (_s: BootstrapSession, outcome: string) => {
        lastOutcome = String(outcome);
        refreshStatus();
      });
      server.on('packRequest', (req: BootstrapPackRequest) => {
        try {
          // The server answers an unanswered pack request itself after packResponseTimeoutMs; forget ours then.
          const timer = setTimeout(() => packRequests.delete(req.id), settings.packResponseTimeoutMs + 1000);
          timer.unref?.();
          packRequests.set(req.id, { req, timer });
          const info: Lwm2mMsgInfo = {
            sessionId: req.id,
            listenerId: node.id,
            endpoint: req.endpoint,
            kind: 'pack',
            preferredContentFormat: req.accept,
            peer: { ...req.peer },
            identity: req.identity ? { ...req.identity } : undefined,
            query: { ...req.query },
            steps: [],
          };
          node.send({ topic: req.endpoint, payload: t('payload.pack', { endpoint: req.endpoint }), lwm2m: info });
        } catch (e) {
          node.error(e instanceof Error ? e.message : String(e));
        }
      });
      server
        .listen()
        .then((addr: { port: number }) => {
          port = addr.port;
          refreshStatus();
        })
        .catch((e: Error) => {
          node.error(t('errors.listenFailed', { address: settings.address, port: settings.port, reason: e.message }));
          showStatus(node, 'failed', t('status.listenFailed', { port: settings.port }));
        });
    }
    start();

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const p of packRequests.values()) clearTimeout(p.timer);
      packRequests.clear();
      const s = server;
      server = undefined;
      const finish = () => {
        clearStatus(node);
        done();
      };
      if (!s) return finish();
      s.close().then(finish, (e: Error) => {
        node.warn(e.message);
        finish();
      });
    });
  }

  /** Settings from the editor fields, or the name of the field that is wrong. */
  function readSettings(c: ListenerDef): ListenerSettings | string {
    const transport = c.transport === 'coap' || !c.transport ? 'coap' : undefined;
    if (!transport) return 'badTransport';
    const port = intOr(c.port, DEFAULT_PORT[transport], 0, 65535);
    if (port === undefined) return 'badPort';
    const seconds = (v: string, def: number, max: number) => intOr(v, def, 1, max);
    const decision = seconds(c.decisionTimeout, 10, 3600);
    const pack = seconds(c.packTimeout, 5, 3600);
    const request = seconds(c.requestTimeout, 30, 3600);
    const session = seconds(c.sessionTimeout, 90, 86400);
    if (decision === undefined || pack === undefined || request === undefined || session === undefined) return 'badTimeout';
    const maxSessions = intOr(c.maxSessions, 10000, 1, 1000000);
    if (maxSessions === undefined) return 'badMaxSessions';
    const decisionCode = stringOr(c.decisionCode, '5.03');
    const packCode = stringOr(c.packCode, '4.04');
    if (!CODE.test(decisionCode) || !CODE.test(packCode)) return 'badCode';
    return {
      transport,
      address: stringOr(c.address, '0.0.0.0'),
      port,
      decisionTimeoutMs: decision * 1000,
      decisionTimeoutCode: decisionCode,
      packResponseTimeoutMs: pack * 1000,
      packDefaultCode: packCode,
      requestTimeoutMs: request * 1000,
      sessionTimeoutMs: session * 1000,
      maxSessions,
    };
  }

  RED.nodes.registerType('lwm2m-bootstrap-listener', BootstrapListenerNode);
};

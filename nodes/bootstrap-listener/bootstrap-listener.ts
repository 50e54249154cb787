/**
 * `lwm2m-bootstrap-listener`: owns one Bootstrap-Server (and so one UDP or DTLS socket) and sends one
 * message per Bootstrap-Request or Bootstrap-Pack-Request. Messages carry ids only; object-write,
 * bootstrap-finish and profile-lookup find the live session through this node
 * (RED.nodes.getNode(msg.lwm2m.listenerId)).
 *
 * CoAPs: keys come from the node's credentials (pskKeys, serverKey) and optionally a device table; they
 * go into the DTLS socket only. msg.lwm2m.identity is {type, id}; status and logs never carry a key.
 */
import { randomBytes } from 'crypto';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { LogSummarizer, logQuoted, SessionOutcome, type AuditRecord, type AuditSink, type BootstrapPackRequest, type BootstrapSession, type ProxyAddressTable } from '../shared/lib';
import { dtlsCapabilities, loadDtls, rpkCapability, type DtlsSocket } from '../shared/dtls';
import { configNode, type AuditSinkNode, type DeviceLookupNode } from '../shared/config-nodes';
import type { ListenerNode, Lwm2mMsgInfo } from '../shared/session-ref';
import { copyAudit, PackRequestNotFoundError, sessionNotFound } from '../shared/session-ref';
import { translator } from '../shared/i18n';
import { quietMetrics } from '../shared/hops';
import { clearStatus, showStatus } from '../shared/status';
import { observeHub } from '../shared/observe';
import { CoapsController, parsePskKeys, PskKeyError, parseRpkKeys, RpkKeyError } from '../shared/lib';
import { serverInitiatedTarget } from './server-initiated';
import { readSettings, type ListenerDef } from './settings';
import { createBootstrapServer, type CoapsSecrets, type ListenerSettings } from './transport';
import { auditMessage } from './audit-output';
import { attachWriteAhead } from './write-ahead';
import { ServerGroup, splitAddresses } from './addresses';

interface Credentials {
  pskKeys?: string;
  serverKey?: string;
  cookieSecret?: string;
}

/** Why a coaps listener cannot start: a translated message (never a key). */
class CoapsStartError extends Error {}

export = function (RED: NodeAPI): void {
  function BootstrapListenerNode(this: Node<{ pskKeys: unknown; serverKey: unknown }>, config: ListenerDef) {
    RED.nodes.createNode(this, config);
    const node = this as unknown as ListenerNode & { credentials?: Credentials };
    quietMetrics(node); // Node-RED's per-message metric events, when they go nowhere (../shared/hops.ts)
    const t = translator(RED, 'lwm2m-bootstrap-listener');

    const fail = (error: string, status: string): void => {
      node.error(error);
      showStatus(node, 'failed', status);
    };
    const read = readSettings(config);
    if (typeof read === 'string') {
      fail(t(`errors.${read}`), t('status.badConfig'));
      node.on('close', (_r: boolean, done: () => void) => {
        clearStatus(node);
        done();
      });
      return;
    }

    const settings: ListenerSettings = read;
    let server: ServerGroup | undefined;
    let dtls: DtlsSocket | undefined;
    let coaps: CoapsController | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    const packRequests = new Map<string, { req: BootstrapPackRequest; timer: NodeJS.Timeout }>();
    let lastOutcome: string | undefined;
    let auditProblem: string | undefined;
    // Devices and audit in PostgreSQL (issue 16): the config node, its sink, and why that sink fails.
    const pgNode = configNode<DeviceLookupNode & AuditSinkNode>(RED, config.postgres);
    let pgAudit: AuditSink | undefined;
    let pgUnhealth: (() => void) | undefined;
    let pgHeld = false;
    let proxyTables: ProxyAddressTable[] = []; // PROXY protocol from a balancer (proxy-protocol.ts)
    let unobserve: (() => void) | undefined;
    let port = settings.port;

    // The library logs a debug line per ended session; Node-RED builds a log record for each even when no
    // logger shows debug, so pass debug lines on only when one does.
    const debugEnabled = debugLogging(RED);
    const logger = {
      debugEnabled,
      debug: debugEnabled ? (m: string) => node.debug(m) : () => undefined,
      info: (m: string) => node.log(m),
      warn: (m: string) => node.warn(m),
      error: (m: string) => node.error(m),
    };

    // Refused requests come in floods: the first warning of a kind at once, then one line per 10 s with a count.
    const warnings = new LogSummarizer((line) => node.warn(line), 10_000, (kind, count, seconds, example) =>
      t('log.summary', { count, kind: t(`log.kind.${kind}`), seconds, example }),
    );

    function refreshStatus(): void {
      if (!server) return;
      const st = server.stats();
      const inFlight = st.sessionsInFlight;
      const parts = [dtls ? t('status.listeningCoaps', { port }) : t('status.listening', { port })];
      if (dtls) parts.push(t('status.peers', { count: server.established() }));
      if (proxyTables.length > 0) parts.push(t('status.proxy', { count: proxyTables.reduce((n, p) => n + p.stats().mappings, 0) }));
      if (inFlight > 0) parts.push(t('status.inFlight', { count: inFlight }));
      // Work shed under a flood (pending sessions, half-open handshakes) and newcomers refused as busy.
      const shed = st.shed.perSource + st.shed.full + server.evicted();
      if (shed > 0) parts.push(t('status.shed', { count: shed }));
      if (st.busy > 0) parts.push(t('status.busy', { count: st.busy }));
      if (lastOutcome) parts.push(t('status.last', { outcome: t(`outcome.${lastOutcome}`) }));
      const pgHealth = pgAudit?.health();
      const pgProblem = pgHealth && (!pgHealth.ok || pgHealth.dropped > 0);
      if (pgProblem) parts.unshift(t('status.auditDbFailed', { dropped: pgHealth.dropped }));
      // Bootstrap-Finish sent before its FINISH_SENT row was committed (the database was slow or down).
      if (pgHealth?.unconfirmed) parts.push(t('status.unconfirmed', { count: pgHealth.unconfirmed }));
      if (auditProblem) parts.unshift(t('status.auditFailed'));
      showStatus(node, auditProblem || pgProblem ? 'failed' : 'listening', parts.join(' · '));
    }
    /** Requests, session ends and DTLS peers come in bursts: one status rebuild per half second at most. */
    function statusSoon(): void {
      if (statusTimer) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        refreshStatus();
      }, 500);
      statusTimer.unref?.();
    }

    node.listenerSettings = settings;
    /** DTLS counters of a coaps listener (no keys, no identities), for tests and diagnostics. */
    (node as ListenerNode & { dtlsStats?: () => unknown }).dtlsStats = () => dtls?.stats();
    /** The server's counters (sessions, pending per source, shed, busy), for tests and diagnostics. */
    (node as ListenerNode & { serverStats?: () => unknown }).serverStats = () => server?.stats();
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
    /**
     * Each ended session's audit record as the server emitted it ('audit', right after 'sessionEnded' for the
     * same session), for msg.lwm2m.audit: bootstrap-finish takes a copy instead of session.audit() building
     * the record (and formatting its times) a second time. Held weakly by the session.
     */
    const endedRecords = new WeakMap<BootstrapSession, AuditRecord>();
    let ending: BootstrapSession | undefined;
    node.auditOf = (session: BootstrapSession): AuditRecord => {
      const r = endedRecords.get(session);
      return r !== undefined ? copyAudit(r) : session.audit();
    };
    node.releasePackRequest = (id: string) => {
      const p = packRequests.get(id);
      if (p) clearTimeout(p.timer);
      packRequests.delete(id);
    };

    /**
     * A message for output 1. It and its msg.lwm2m name up front the properties the bootstrap path adds
     * (Node-RED's _msgid, profile-lookup's msg.profile and msg.lwm2m.profileName): a property added to an
     * object after it was made goes to a separate property array, 40 B of heap each for every pending
     * session.
     */
    function newMessage(topic: string, payload: string, lwm2m: Lwm2mMsgInfo): NodeMessage {
      return { _msgid: messageId(), topic, payload, lwm2m, profile: undefined } as NodeMessage;
    }

    /**
     * Whether output 2 (the audit records) goes anywhere; true when the runtime does not say. A flow whose
     * wires list only output 1 (written by hand or by a script; the editor writes both) has output 2
     * unwired: Node-RED's send() goes over the wires the node has, and a message for output 2 goes nowhere.
     */
    function auditWired(): boolean {
      const wires = (node as { wires?: unknown[][] }).wires;
      if (!Array.isArray(wires)) return true;
      const second = wires[1];
      return second !== undefined && (!Array.isArray(second) || second.length > 0);
    }

    /** The DTLS part of a coaps listener; throws CoapsStartError with the translated reason. */
    function coapsSecrets(): CoapsSecrets {
      const c = settings.coaps!;
      const loaded = loadDtls();
      if (!loaded.ok) throw new CoapsStartError(t('errors.dtlsUnavailable', { reason: loaded.reason }));
      let own;
      try {
        own = parsePskKeys(node.credentials?.pskKeys);
      } catch (e) {
        throw new CoapsStartError(t('errors.badPskKeys', { reason: e instanceof PskKeyError ? e.message : 'unreadable' }));
      }
      coaps = new CoapsController(own, logger, (count) => t('errors.badTableKeys', { count }));
      if (c.rpk) {
        try {
          coaps.useRpk(parseRpkKeys(c.rpk.keys), c.rpk.tableColumn);
        } catch (e) {
          throw new CoapsStartError(t('errors.badRpkKeys', { reason: e instanceof RpkKeyError ? e.message : 'unreadable' }));
        }
      }
      if (c.table) {
        const tn = configNode<DeviceLookupNode>(RED, c.table.id);
        if (!tn || !tn.table) throw new CoapsStartError(t('errors.noPskTable', { reason: tn?.configError ?? c.table.id }));
        coaps.useTable(tn.table, { identity: c.table.identityColumn, key: c.table.keyColumn, endpoint: c.table.endpointColumn });
      }
      if (pgNode?.deviceSource) coaps.useSource(pgNode.deviceSource);
      if (pgNode?.keySource) coaps.useKeySource(pgNode.keySource);
      const fromSources = Boolean(pgNode?.deviceSource || pgNode?.keySource);
      const key = node.credentials?.serverKey?.trim() || undefined;
      if (c.cert && !key) throw new CoapsStartError(t('errors.certWithoutKey'));
      if (c.rpk && !key) throw new CoapsStartError(t('errors.rpkWithoutKey'));
      if (!c.cert && key && !c.rpk) throw new CoapsStartError(t('errors.keyWithoutCert'));
      if (own.size === 0 && !c.table && !fromSources && !c.cert && !c.rpk) throw new CoapsStartError(t('errors.noCoapsCredentials'));
      // Last, so that mistakes in the keys are reported wherever the flow runs.
      const can = c.rpk ? rpkCapability() : undefined;
      if (can && !can.available) throw new CoapsStartError(t('errors.rpkUnavailable', { reason: can.reason }));
      return { psk: own.size > 0 || c.table || fromSources ? coaps.psk : undefined, rpk: coaps.rpk, key, cookieSecret: cookieSecret() };
    }

    /** The DTLS cookie secret shared by every instance (empty or an unresolved ${VAR}: this socket's own). */
    function cookieSecret(): string | undefined {
      const text = node.credentials?.cookieSecret?.trim() ?? '';
      if (text === '' || /^\$\{\w+\}$/.test(text)) return undefined;
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes < 16 || bytes > 1024) throw new CoapsStartError(t('errors.badCookieSecret', { bytes }));
      return text;
    }

    /** Endpoint/identity binding: refuses (and logs) a request whose ep is not the identity's. */
    function refusedByBinding(endpoint: string, peer: { address: string; port: number }, identity: { type: string; id: string } | undefined): boolean {
      const c = settings.coaps;
      if (!coaps || !c || !c.bindingCheck) return false;
      const r = coaps.check(endpoint, peer, identity);
      if (r.ok) return false;
      warnings.warn(
        'binding',
        t(r.reason === 'no-identity' ? 'log.bindingNoIdentity' : 'log.bindingRefused', {
          endpoint: logQuoted(endpoint),
          identity: identity ? `${identity.type}:${logQuoted(identity.id)}` : '-',
          peer: `${peer.address}:${peer.port}`,
          code: c.bindingCode,
        }),
      );
      return true;
    }

    function start(): void {
      if (config.postgres && (!pgNode || pgNode.configError)) {
        return fail(t('errors.noPostgres', { reason: pgNode?.configError ?? config.postgres }), t('status.badConfig'));
      }
      pgAudit = pgNode?.auditSink();
      pgHeld = !!pgAudit;
      if (pgAudit) {
        pgUnhealth = pgAudit.onHealth((h) => {
          if (!h.ok) node.error(t('errors.auditDbFailed', { reason: h.error ?? '', dropped: h.dropped }));
          refreshStatus();
        });
      }
      let secrets: CoapsSecrets = {};
      try {
        if (settings.transport === 'coaps') secrets = coapsSecrets();
        // One server (one socket) per address of the Address field: see addresses.ts.
        const addresses = splitAddresses(settings.address);
        const created = (addresses.length > 0 ? addresses : [settings.address]).map((address) =>
          createBootstrapServer({ ...settings, address }, logger, secrets),
        );
        server = new ServerGroup(created, addresses);
        attachWriteAhead(server.servers, pgAudit, node.id);
        proxyTables = created.flatMap((c) => (c.proxy ? [c.proxy] : []));
        dtls = server.dtls[0];
      } catch (e) {
        coaps?.release();
        coaps = undefined;
        const reason = e instanceof Error ? e.message : String(e);
        if (settings.transport === 'coap') return fail(reason, t('status.badConfig'));
        const msg = e instanceof CoapsStartError ? e.message : t('errors.dtlsFailed', { reason });
        fail(msg, t(loadDtls().ok ? 'status.coapsFailed' : 'status.coapsUnavailable'));
        return;
      }
      for (const d of coaps ? server.dtls : []) {
        coaps!.attach(d, settings.coaps!.limits.maxPeers);
        d.on('handshake', statusSoon);
        d.on('peerClosed', statusSoon);
        d.on('handshakeFailed', statusSoon); // lib/dtls logs the failure itself
      }
      const srv = server;
      // The sidebar, the metrics and the audit log (nodes/shared/observe.ts); a failing audit log turns the status red.
      unobserve = observeHub(RED).attach({ id: node.id, name: node.name || '', transport: settings.transport, port }, srv, dtls, (problem) => {
        if (problem) node.error(t('errors.auditFailed', { reason: problem }));
        else if (auditProblem) node.log(t('errors.auditRecovered'));
        auditProblem = problem;
        refreshStatus();
      });
      srv.on('bootstrapRequest', (session: BootstrapSession) => {
        try {
          if (refusedByBinding(session.endpoint, session.peer, session.identity)) {
            void session
              .reject(settings.coaps!.bindingCode, 'the endpoint name does not belong to the DTLS identity', SessionOutcome.UNAUTHORIZED)
              .catch(() => undefined);
            return;
          }
          const info: Lwm2mMsgInfo = {
            sessionId: session.id,
            listenerId: node.id,
            endpoint: session.endpoint,
            kind: 'bootstrap',
            preferredContentFormat: session.preferredContentFormat,
            peer: shared(session.peer),
            local: srv.localOf(session),
            identity: session.identity ? { type: session.identity.type, id: session.identity.id } : undefined,
            query: shared(session.query),
            steps: [],
            profileName: undefined, // set by profile-lookup: see newMessage()
          };
          node.send(newMessage(session.endpoint, t('payload.bootstrap', { endpoint: session.endpoint }), info));
          statusSoon();
        } catch (e) {
          node.error(e instanceof Error ? e.message : String(e));
        }
      });
      // Output 2, the log of record: one message per ended session and per pack request.
      srv.on('audit', (record: AuditRecord) => {
        const s = ending;
        ending = undefined;
        try {
          pgAudit?.write({ ...record, listenerId: node.id });
          // Output 2 wired to nothing (the record goes to the audit log only): no message to build and send.
          // Wired, the record itself goes out, where a flow may change it: bootstrap-finish builds its own then.
          if (auditWired()) node.send([null, auditMessage(record, node.id, t)]);
          else if (s !== undefined && s.id === record.sessionId && s.state === 'ended') endedRecords.set(s, record);
        } catch (e) {
          node.error(e instanceof Error ? e.message : String(e));
        }
      });
      srv.on('sessionEnded', (s: BootstrapSession, outcome: string) => {
        ending = s; // its 'audit' record comes next (see endedRecords)
        lastOutcome = String(outcome);
        statusSoon();
      });
      srv.on('packRequest', (req: BootstrapPackRequest) => {
        try {
          if (refusedByBinding(req.endpoint, req.peer, req.identity)) {
            void req.reject(settings.coaps!.bindingCode, 'the endpoint name does not belong to the DTLS identity').catch(() => undefined);
            return;
          }
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
            peer: shared(req.peer),
            local: srv.localOf(req),
            identity: req.identity ? { type: req.identity.type, id: req.identity.id } : undefined,
            query: shared(req.query),
            steps: [],
            profileName: undefined, // set by profile-lookup: see newMessage()
          };
          node.send(newMessage(req.endpoint, t('payload.pack', { endpoint: req.endpoint }), info));
        } catch (e) {
          node.error(e instanceof Error ? e.message : String(e));
        }
      });
      srv
        .listen()
        .then((addr: { port: number }) => {
          port = addr.port;
          observeHub(RED).setPort(node.id, port);
          refreshStatus();
        })
        .catch((e: Error) => {
          node.error(t('errors.listenFailed', { address: settings.address, port: settings.port, reason: e.message }));
          showStatus(node, 'failed', t('status.listenFailed', { port: settings.port }));
        });
    }
    start();

    // A server-initiated bootstrap (server-initiated.ts): open the session, send it on like a Bootstrap-Request.
    node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      const target = serverInitiatedTarget(msg as NodeMessage & { bootstrap?: unknown });
      if ('error' in target) return done(new Error(t(`errors.${target.error}`)));
      if (!server) return done(new Error(t('errors.serverInitiated.notListening')));
      if (settings.transport === 'coaps') return done(new Error(t('errors.serverInitiated.coaps')));
      try {
        const s = server.openSession({ address: target.address, port: target.port }, target.endpoint, {
          preferredContentFormat: target.contentFormat,
          lwm2mVersion: target.lwm2mVersion,
        });
        const info: Lwm2mMsgInfo = {
          sessionId: s.id,
          listenerId: node.id,
          endpoint: s.endpoint,
          kind: 'server-initiated',
          preferredContentFormat: s.preferredContentFormat,
          lwm2mVersion: s.lwm2mVersion,
          peer: { ...s.peer },
          local: server.localOf(s),
          query: {},
          steps: [],
          profileName: undefined,
        };
        node.send(newMessage(s.endpoint, t('payload.serverInitiated', { endpoint: s.endpoint }), info));
        statusSoon();
        done();
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const p of packRequests.values()) clearTimeout(p.timer);
      packRequests.clear();
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      warnings.close();
      coaps?.release();
      coaps = undefined;
      unobserve?.();
      unobserve = undefined;
      pgUnhealth?.();
      pgUnhealth = undefined;
      const s = server;
      server = undefined;
      dtls = undefined;
      const finish = () => {
        if (pgHeld) pgNode?.releaseAudit();
        pgHeld = false;
        clearStatus(node);
        done();
      };
      if (!s) return finish();
      const flushed = () => {
        const a = pgAudit as (AuditSink & { flush?: () => Promise<void> }) | undefined;
        pgAudit = undefined;
        return a?.flush ? a.flush().catch(() => undefined) : Promise.resolve();
      };
      // Sessions in flight get 2 s to end by themselves (a Finish on its way would otherwise be recorded
      // CANCELLED although the device applied it); new Bootstrap-Requests are ignored meanwhile. Closing
      // ends the rest: their audit records go to the log and the database before Node-RED stops.
      s.close({ drainMs: 2000 }).then(
        () => Promise.all([observeHub(RED).flush(), flushed()]).then(finish, finish),
        (e: Error) => {
          node.warn(e.message);
          finish();
        },
      );
    });
  }

  observeHub(RED); // the sidebar's and the metrics' admin routes, also in a runtime without the plugin
  RED.nodes.registerType('lwm2m-bootstrap-listener', BootstrapListenerNode, {
    credentials: { pskKeys: { type: 'password' }, serverKey: { type: 'password' }, cookieSecret: { type: 'password' } },
  });

  // What CoAPs can do in this Node.js, for the edit dialog (no keys, no identities).
  RED.httpAdmin.get('/lwm2m-bootstrap-listener/dtls-capabilities', RED.auth.needsPermission('lwm2m-bootstrap-listener.read'), (_req, res) => {
    try {
      const c = dtlsCapabilities();
      res.json({ available: c.available, reason: c.reason, psk: c.psk, x509: c.x509, rpk: c.rpk, openssl: c.openssl });
    } catch (e) {
      res.json({ available: false, reason: e instanceof Error ? e.message : String(e) });
    }
  });
};

/**
 * The session's own peer address or query for msg.lwm2m, frozen instead of copied: the library never changes
 * them, a copy per message was ~100 B of heap for every pending session, and frozen, a flow that edits
 * msg.lwm2m.peer or .query in place cannot change what the session and its audit record say. (Node-RED's
 * message clone, for a second wire, makes plain copies.)
 */
function shared<T extends object>(o: T): T {
  return Object.isFrozen(o) ? o : Object.freeze(o);
}

/**
 * A message id in the format of Node-RED's RED.util.generateId (16 hex digits): a random prefix per process
 * (a new one each 2^32 messages) and a counter from a random start, so ids are unique within the runtime
 * and unlikely to repeat across restarts. generateId formats and joins eight random one-byte strings per
 * message (~0.6% of a storm's CPU); Number#toString(16) of random numbers cost about as much.
 */
function messageId(): string {
  const n = (idCount = (idCount + 1) >>> 0);
  if (n === idStart) idPrefix = randomBytes(4).toString('hex');
  return idPrefix + HEX[n >>> 24] + HEX[(n >>> 16) & 0xff] + HEX[(n >>> 8) & 0xff] + HEX[n & 0xff];
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let idPrefix = randomBytes(4).toString('hex');
const idStart = randomBytes(4).readUInt32BE(0);
let idCount = idStart;

/** Whether any of Node-RED's configured loggers shows debug lines (default: info, which does not). */
function debugLogging(RED: NodeAPI): boolean {
  let logging: unknown;
  try {
    logging = (RED.settings as unknown as { logging?: unknown }).logging;
  } catch {
    return false;
  }
  if (!logging || typeof logging !== 'object') return false;
  return Object.values(logging as Record<string, { level?: unknown }>).some(
    (l) => !!l && typeof l === 'object' && ['debug', 'trace'].includes(String(l.level)),
  );
}

/**
 * The runtime side of the sidebar, the metrics and the audit log: `observeHub(RED)` gives the runtime's one
 * ObserveHub, creating it (and its admin routes) on first use. Listeners and the sidebar plugin both call
 * it; the hub is keyed by the runtime's admin app, so every module of the package gets the same one.
 *
 * The audit log is a runtime setting, not a node: one log per Node-RED instance, on by default under the
 * user directory, so a flow (the demo's, an example's) has it without a node to add, and two config nodes
 * can never rotate each other's files. settings.js:
 *
 *   lwm2mBootstrap: { audit: { directory: '/var/log/lwm2m', maxFileBytes: 10485760, filesKept: 10 } }
 *   lwm2mBootstrap: { audit: false }        // no audit log
 *
 * Admin routes (permission `lwm2m-bootstrap.read`; never a key in any answer):
 *   GET /lwm2m-bootstrap/metrics          Prometheus text format
 *   GET /lwm2m-bootstrap/sessions?since=N live sessions per listener, ended records after seq N, counts, audit log state
 *   GET /lwm2m-bootstrap/sessions/:id     one session's record (steps so far when live)
 *   GET /lwm2m-bootstrap/history?endpoint=&outcome=&limit=   from the audit log, newest first
 *   GET /lwm2m-bootstrap/sims/:id         a client-sim node's state and its device's last bootstrap trace (secrets masked)
 */
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { AuditOptionError, JsonlAuditReader, JsonlAuditSink, resolveJsonlOptions } from './lib';
import { ObserveHub, type AuditState } from './observe-hub';

export const READ_PERMISSION = 'lwm2m-bootstrap.read';
/** Ended records per sidebar poll at most; the sidebar catches up over the next polls. */
const POLL_LIMIT = 500;

const hubs = new WeakMap<object, ObserveHub>();
/** One writer per directory in this process, whichever runtime asks (tests start several). */
const sinks = new Map<string, JsonlAuditSink>();

export interface AuditSettings {
  directory: string;
  maxFileBytes?: number;
  filesKept?: number;
}

/** The audit log settings from settings.js: undefined when off, or a string saying what is wrong. */
export function auditSettings(RED: NodeAPI): AuditSettings | undefined | string {
  let conf: unknown;
  let userDir: unknown;
  try {
    conf = (RED.settings as unknown as { lwm2mBootstrap?: { audit?: unknown } }).lwm2mBootstrap?.audit;
  } catch {
    conf = undefined;
  }
  try {
    userDir = (RED.settings as unknown as { userDir?: unknown }).userDir;
  } catch {
    userDir = undefined;
  }
  if (conf === false) return undefined;
  const c = conf && typeof conf === 'object' ? (conf as Record<string, unknown>) : {};
  const dir = typeof c.directory === 'string' && c.directory ? c.directory : typeof userDir === 'string' && userDir ? path.join(userDir, 'lwm2m-audit') : undefined;
  if (!dir) return undefined;
  const out: AuditSettings = { directory: path.resolve(dir) };
  if (c.maxFileBytes !== undefined) out.maxFileBytes = Number(c.maxFileBytes);
  if (c.filesKept !== undefined) out.filesKept = Number(c.filesKept);
  try {
    resolveJsonlOptions(out);
  } catch (e) {
    return e instanceof AuditOptionError ? e.message : String(e);
  }
  return out;
}

export function observeHub(RED: NodeAPI): ObserveHub {
  const key = RED.httpAdmin as unknown as object;
  let hub = hubs.get(key);
  if (hub) return hub;
  const conf = auditSettings(RED);
  let audit: AuditState | undefined;
  if (conf && typeof conf === 'object') {
    let sink = sinks.get(conf.directory);
    if (!sink) {
      sink = new JsonlAuditSink(conf);
      sinks.set(conf.directory, sink);
    }
    audit = { sink, reader: new JsonlAuditReader({ directory: conf.directory }), directory: conf.directory };
    RED.log.info(`[lwm2m-bootstrap] audit log: ${conf.directory}`);
  } else if (typeof conf === 'string') {
    RED.log.error(`[lwm2m-bootstrap] audit log off: ${conf}`);
  }
  hub = new ObserveHub(audit, typeof conf === 'string' ? conf : undefined);
  hubs.set(key, hub);
  installRoutes(RED, hub);
  return hub;
}

function installRoutes(RED: NodeAPI, hub: ObserveHub): void {
  const can = RED.auth.needsPermission(READ_PERMISSION);
  const fail = (res: { status(n: number): { json(b: unknown): void } }, e: unknown) =>
    res.status(500).json({ error: e instanceof Error ? e.message : String(e) });

  RED.httpAdmin.get('/lwm2m-bootstrap/metrics', can, (_req, res) => {
    hub.metrics.text().then(
      (text) => {
        res.set('Content-Type', hub.metrics.contentType);
        res.send(text);
      },
      (e) => fail(res, e),
    );
  });

  RED.httpAdmin.get('/lwm2m-bootstrap/sessions', can, (req, res) => {
    const since = Number(req.query.since ?? 0);
    hub.whenReady().then(
      () => {
        const h = hub.auditHealth();
        res.json({
          seq: hub.lastSeq,
          listeners: hub.listeners(),
          sims: hub.sims.list(),
          ended: hub.endedSince(Number.isFinite(since) ? since : 0, POLL_LIMIT),
          counts: hub.counts(),
          audit: h ? { enabled: true, ...h } : { enabled: false, error: hub.auditError },
        });
      },
      (e) => fail(res, e),
    );
  });

  RED.httpAdmin.get('/lwm2m-bootstrap/sessions/:id', can, (req, res) => {
    hub.detail(String(req.params.id)).then(
      (d) => (d ? res.json(d) : res.status(404).json({ error: 'no such session' })),
      (e) => fail(res, e),
    );
  });

  RED.httpAdmin.get('/lwm2m-bootstrap/sims/:id', can, (req, res) => {
    const s = hub.sims.get(String(req.params.id));
    if (s) res.json(s);
    else res.status(404).json({ error: 'no such simulated device node' });
  });

  RED.httpAdmin.get('/lwm2m-bootstrap/history', can, (req, res) => {
    const limit = Math.max(1, Math.min(1000, Number(req.query.limit ?? 200) || 200));
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const reader = hub.audit?.reader;
    if (!reader) return void res.json({ entries: [] });
    reader.recent(limit, { endpoint: str(req.query.endpoint), outcome: str(req.query.outcome) }).then(
      (entries) => res.json({ entries }),
      (e) => fail(res, e),
    );
  });
}

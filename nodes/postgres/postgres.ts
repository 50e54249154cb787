/**
 * Config node `lwm2m-postgres`: one PostgreSQL database for the fleet. Adapts the library's
 * PostgresDeviceSource (profile lookup's device rows, a CoAPs listener's PSKs) and PostgresAuditSink (the
 * listener's audit records) to Node-RED; one connection pool for both. The connection string is a
 * credential: it may hold a password, so it never reaches a log, a status or an error text (pg's errors
 * name the host at most).
 */
import * as os from 'os';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { Pool } from 'pg';
import { compileKeyRegex, deviceKeyFor, PostgresAuditSink, PostgresDeviceSource, type DeviceRecord, type MatchOn, type RequestFacts } from '../shared/lib';
import type { AuditSinkNode, DeviceLookupNode } from '../shared/config-nodes';
import { intOr } from '../shared/env';

interface PostgresDef extends NodeDef {
  matchOn: MatchOn;
  keyRegex: string;
  cacheSize: string;
  missTtl: string;
  poolSize: string;
  auditQueue: string;
  /** Write-ahead wait before Bootstrap-Finish, ms (lib/audit/postgres.ts); 0: off. */
  writeAhead?: string;
  instance: string;
}

/** Both contracts of nodes/shared/config-nodes.ts: devices (profile lookup, CoAPs keys) and audit. */
type PostgresConfigNode = DeviceLookupNode & AuditSinkNode;

export = function (RED: NodeAPI): void {
  function PostgresNode(this: Node<{ connectionString: unknown }>, config: PostgresDef) {
    RED.nodes.createNode(this, config);
    const node = this as unknown as PostgresConfigNode & { credentials?: { connectionString?: string } };
    const url = node.credentials?.connectionString?.trim();
    const matchOn: MatchOn = (['endpoint', 'identity', 'imei', 'iccid'] as const).includes(config.matchOn) ? config.matchOn : 'endpoint';
    let regex: RegExp | undefined;
    let pool: Pool | undefined;
    let source: PostgresDeviceSource | undefined;
    let sink: PostgresAuditSink | undefined;
    const cacheSize = intOr(config.cacheSize, 100000, 1, 100000000);
    const missTtl = intOr(config.missTtl, 5, 0, 3600);
    const poolSize = intOr(config.poolSize, 10, 1, 1000);
    const auditQueue = intOr(config.auditQueue, 10000, 1, 10000000);
    const writeAheadMs = intOr(config.writeAhead, 500, 0, 10000);

    try {
      regex = compileKeyRegex(config.keyRegex);
    } catch (e) {
      node.configError = RED._('lwm2m-postgres.errors.badRegex', { reason: (e as Error).message } as Record<string, string>);
    }
    if (!url) node.configError = RED._('lwm2m-postgres.errors.noUrl');
    if (cacheSize === undefined || missTtl === undefined || poolSize === undefined || auditQueue === undefined || writeAheadMs === undefined) {
      node.configError = RED._('lwm2m-postgres.errors.badNumber');
    }
    if (node.configError) node.error(node.configError);
    else {
      pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
      // An idle connection that breaks (database restarted) must not crash Node-RED; the next query reconnects.
      pool.on('error', () => undefined);
      let lastProblem = '';
      source = new PostgresDeviceSource({
        pool,
        cacheSize,
        missTtlMs: (missTtl ?? 5) * 1000,
        onError: (e) => {
          if (e.message === lastProblem) return;
          lastProblem = e.message;
          node.warn(RED._('lwm2m-postgres.errors.listenLost', { reason: e.message }));
        },
      });
      source.start().then(
        () => node.log(RED._('lwm2m-postgres.log.ready')),
        (e: Error) => node.error(RED._('lwm2m-postgres.errors.start', { reason: e.message })),
      );
    }

    Object.defineProperty(node, 'deviceSource', { get: () => source });

    let users = 0;
    let allReleased: (() => void) | undefined;
    node.auditSink = () => {
      if (!pool) return undefined;
      sink ??= new PostgresAuditSink({ pool, instance: config.instance?.trim() || os.hostname(), maxQueue: auditQueue, writeAheadMs });
      users++;
      return sink;
    };
    node.releaseAudit = () => {
      users = Math.max(0, users - 1);
      if (users === 0) allReleased?.();
    };

    node.lookupFor = async (facts: RequestFacts) => {
      if (!source) throw new Error(node.configError ?? RED._('lwm2m-postgres.errors.noUrl'));
      const key = deviceKeyFor(facts, matchOn, regex);
      if (key === undefined) return {};
      const rec: DeviceRecord | undefined = await source.lookup(matchOn, key);
      return { key, row: rec ? { key, profile: rec.profile, values: rec.values } : undefined };
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const s = sink;
      const src = source;
      const p = pool;
      sink = undefined;
      source = undefined;
      pool = undefined;
      void (async () => {
        // Node-RED closes all nodes at once: wait (10 s at most) for the listeners to close and flush first.
        if (users > 0) {
          await new Promise<void>((resolve) => {
            allReleased = resolve;
            setTimeout(resolve, 10_000).unref?.();
          });
        }
        await s?.close().catch(() => undefined);
        await src?.close().catch(() => undefined);
        await p?.end().catch(() => undefined);
      })().finally(done);
    });
  }
  RED.nodes.registerType('lwm2m-postgres', PostgresNode, { credentials: { connectionString: { type: 'password' } } });
};

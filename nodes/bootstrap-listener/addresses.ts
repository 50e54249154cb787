/**
 * A listener on several local addresses: `127.0.0.1, 192.0.2.10` in the Address field binds one socket
 * (one BootstrapServer) per address and so knows which of this machine's addresses a request was sent TO.
 * Node's dgram has no IP_PKTINFO: a socket bound to the wildcard (0.0.0.0, ::) cannot tell, and neither can
 * the peer's address (Linux picks 127.0.0.1 as the source for a datagram to 127.0.0.2). That address goes on
 * msg.lwm2m.local and fills `${serverAddress}` / `${serverHost}` in profiles, so a profile can point a
 * device at a DM server on this machine by the address the device already reached (e.g. a
 * DM_SERVER_URI of `coap://${serverHost}:5783`). Replies leave from the address the request came to.
 *
 * The group offers the part of BootstrapServer the listener node uses, so the node keeps one `server`.
 */
import { EventEmitter } from 'events';
import { isIP } from 'net';
import type { AuditRecord, BootstrapPackRequest, BootstrapServer, BootstrapServerStats, BootstrapSession } from '../shared/lib';
import type { DtlsSocket } from '../shared/dtls';
import type { CreatedServer } from './transport';

/** Addresses of the Address field: separated by commas or spaces; duplicates dropped. Empty -> []. */
export function splitAddresses(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((a) => a.trim()).filter((a) => a !== ''))];
}

/** A wildcard address says nothing about where a request was sent. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

/** An address as the host part of a URI (IPv6 in brackets, RFC 3986 section 3.2.2). */
export function uriHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Where a request arrived: the bound address (undefined for a wildcard) and port. */
export interface LocalAddress {
  address?: string;
  port: number;
}

export class ServerGroup extends EventEmitter {
  readonly servers: BootstrapServer[];
  readonly dtls: DtlsSocket[];
  private readonly bound: (LocalAddress | undefined)[] = [];
  private readonly local = new WeakMap<object, LocalAddress>();

  /** `created` in the order of the addresses; events of every server are re-emitted by the group. */
  constructor(
    created: CreatedServer[],
    private readonly addresses: string[],
  ) {
    super();
    this.servers = created.map((c) => c.server);
    this.dtls = created.flatMap((c) => (c.dtls ? [c.dtls] : []));
    this.servers.forEach((s, i) => {
      // One socket: every request arrived at its address, no entry per session (heap per pending session).
      const tag = created.length === 1 ? () => undefined : (o: object) => {
        const b = this.bound[i];
        if (b) this.local.set(o, b);
      };
      s.on('bootstrapRequest', (session: BootstrapSession) => {
        tag(session);
        this.emit('bootstrapRequest', session);
      });
      s.on('packRequest', (req: BootstrapPackRequest) => {
        tag(req);
        this.emit('packRequest', req);
      });
      s.on('sessionEnded', (...args: unknown[]) => this.emit('sessionEnded', ...args));
      s.on('audit', (record: AuditRecord) => this.emit('audit', record));
    });
  }

  /** Binds every address; if one fails, the others are closed again and the error names the address. */
  async listen(): Promise<{ port: number }> {
    const results = await Promise.allSettled(this.servers.map((s) => s.listen()));
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await Promise.all(this.servers.map((s) => s.close().catch(() => undefined)));
      const reason = (results[failed] as PromiseRejectedResult).reason as Error;
      if (this.servers.length > 1) reason.message = `${this.addresses[failed]}: ${reason.message}`;
      throw reason;
    }
    results.forEach((r, i) => {
      const a = (r as PromiseFulfilledResult<{ address: string; port: number }>).value;
      this.bound[i] = { address: isWildcard(a.address) ? undefined : a.address, port: a.port };
    });
    return { port: this.bound[0]!.port };
  }

  /** Where the session or pack request arrived (set from listen() on). */
  localOf(o: object): LocalAddress | undefined {
    return this.servers.length === 1 ? this.bound[0] : this.local.get(o);
  }

  /**
   * A server-initiated bootstrap (BootstrapServer.openSession) from the first socket of the target's address
   * family: requests to the device leave from it, and the session knows where it runs, as sessions a device
   * opened do.
   */
  openSession(...args: Parameters<BootstrapServer['openSession']>): BootstrapSession {
    const v6 = isIP(String(args[0]?.address ?? '')) === 6;
    const i = Math.max(0, this.servers.findIndex((_s, k) => {
      const b = this.bound[k];
      return b === undefined || b.address === undefined ? this.addresses[k]?.includes(':') === v6 : isIP(b.address) === (v6 ? 6 : 4);
    }));
    const session = this.servers[i].openSession(...args);
    const b = this.bound[i];
    if (b && this.servers.length > 1) this.local.set(session, b);
    return session;
  }

  getSession(id: string): BootstrapSession | undefined {
    for (const s of this.servers) {
      try {
        return s.getSession(id);
      } catch {
        // not on this socket
      }
    }
    return undefined;
  }

  /** The servers' counters added up (pendingSources: the most of any one socket; lastOutcome: the last socket's that has one). */
  stats(): BootstrapServerStats {
    const all = this.servers.map((s) => s.stats());
    const sum = (f: (x: BootstrapServerStats) => number): number => all.reduce((n, x) => n + f(x), 0);
    return {
      sessionsInFlight: sum((x) => x.sessionsInFlight),
      started: sum((x) => x.started),
      succeeded: sum((x) => x.succeeded),
      rejected: sum((x) => x.rejected),
      failed: sum((x) => x.failed),
      malformed: sum((x) => x.malformed),
      shed: { perSource: sum((x) => x.shed.perSource), full: sum((x) => x.shed.full) },
      busy: sum((x) => x.busy),
      otherSource: sum((x) => x.otherSource),
      pending: sum((x) => x.pending),
      pendingSources: Math.max(0, ...all.map((x) => x.pendingSources)),
      lastOutcome: all.map((x) => x.lastOutcome).filter((o) => o !== undefined).pop(),
    };
  }

  /** Half-open DTLS handshakes evicted for newcomers, over every socket. */
  evicted(): number {
    return this.dtls.reduce((n, d) => {
      const e = d.stats().evicted;
      return n + e.perSource + e.full;
    }, 0);
  }

  /** DTLS peers established over every socket. */
  established(): number {
    return this.dtls.reduce((n, d) => n + d.stats().established, 0);
  }

  /** Closes every server; `opts.drainMs` lets sessions in flight end by themselves first (BootstrapServer.close). */
  async close(opts?: Parameters<BootstrapServer['close']>[0]): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close(opts)));
  }
}

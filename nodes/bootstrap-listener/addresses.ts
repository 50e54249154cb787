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
import type { AuditRecord, BootstrapPackRequest, BootstrapServer, BootstrapSession } from '../shared/lib';
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
      const tag = (o: object) => {
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
    return this.local.get(o);
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

  stats(): { sessionsInFlight: number } {
    return { sessionsInFlight: this.servers.reduce((n, s) => n + s.stats().sessionsInFlight, 0) };
  }

  /** DTLS peers established over every socket. */
  established(): number {
    return this.dtls.reduce((n, d) => n + d.stats().established, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }
}

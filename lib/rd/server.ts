/**
 * RegistrationServer: a minimal LwM2M Server (registration interface only) for tests, the demo and the
 * benchmark. Answers `POST /rd?ep=&lt=&lwm2m=&b=` with 2.01 and a Location-Path `rd/<id>`, Update
 * `POST /rd/<id>` with 2.04, De-register `DELETE /rd/<id>` with 2.02; keeps the registrations, expires them
 * after their lifetime, and can Execute a resource on a registered client (e.g. /1/x/9, the
 * Bootstrap-Request Trigger). Runs node-coap's Server and Agent on one socket (UDP, or a DTLS
 * socket-like object passed in).
 *
 * Events: 'registered' (Registration), 'updated' (Registration), 'deregistered' (Registration),
 * 'expired' (Registration), 'warning' ({message}).
 */
import { randomBytes } from 'crypto';
import { EventEmitter } from 'events';
import * as dgram from 'dgram';
import * as coap from 'coap';
import { Lwm2mError } from '../errors';
import { LwM2mPath } from '../model/path';

export interface Registration {
  id: string;
  endpoint: string;
  lifetime: number;
  lwm2mVersion: string;
  binding: string;
  queueMode: boolean;
  /** The link-format payload as sent. */
  links: string;
  /** Object instance paths from the links, e.g. ['/1/0', '/3/0']. */
  instances: string[];
  address: string;
  port: number;
  registeredAt: number;
  lastUpdate: number;
  updates: number;
}

export class RegistrationError extends Lwm2mError {
  constructor(
    message: string,
    readonly coapCode?: string,
  ) {
    super('REGISTRATION', message);
  }
}

export interface RegistrationServerOptions {
  /** Address to bind when no socket is given. Default 127.0.0.1. */
  address?: string;
  /** Port to bind (0 = any). */
  port?: number;
  /** A bound dgram socket or a socket-like (DTLS) object; the caller keeps ownership. */
  socket?: dgram.Socket;
  /** Extra seconds past the lifetime before a registration expires. Default 2. */
  graceSec?: number;
  /** Timeout of requests this server sends (Execute). Default 10 s. */
  requestTimeoutMs?: number;
}

type RawOption = { name: string | number; value: Buffer };

function options(req: coap.IncomingMessage, name: string): string[] {
  return ((req._packet.options ?? []) as RawOption[])
    .filter((o) => o.name === name)
    .map((o) => (Buffer.isBuffer(o.value) ? o.value.toString('utf8') : String(o.value)));
}

/** `</1/0>,</3/0>;ver=1.1` -> ['/1/0', '/3/0'] (instance links only). */
export function instanceLinks(links: string): string[] {
  const out: string[] = [];
  for (const m of links.matchAll(/<([^>]*)>/g)) {
    const p = m[1].replace(/\/$/, '');
    if (/^\/\d+\/\d+$/.test(p)) out.push(p);
  }
  return out;
}

export class RegistrationServer extends EventEmitter {
  readonly registrations = new Map<string, Registration>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private server: coap.Server | undefined;
  private agent: coap.Agent | undefined;
  private socket: dgram.Socket | undefined;
  private ownsSocket = false;

  constructor(private readonly opts: RegistrationServerOptions = {}) {
    super();
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  async listen(): Promise<this> {
    let sock = this.opts.socket;
    if (!sock) {
      const address = this.opts.address ?? '127.0.0.1';
      const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.opts.port ?? 0, address, () => {
          s.off('error', reject);
          resolve();
        });
      });
      sock = s;
      this.ownsSocket = true;
    }
    this.socket = sock;
    this.server = new coap.Server();
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.handle(req, res));
    this.server.on('error', (err: Error) => this.emit('warning', { message: err.message }));
    this.server.listen(sock);
    this.agent = new coap.Agent({ socket: sock });
    this.agent.on('error', (err: Error) => this.emit('warning', { message: err.message }));
    return this;
  }

  byEndpoint(endpoint: string): Registration | undefined {
    for (const r of this.registrations.values()) if (r.endpoint === endpoint) return r;
    return undefined;
  }

  private arm(reg: Registration): void {
    clearTimeout(this.timers.get(reg.id));
    if (reg.lifetime <= 0) return;
    const t = setTimeout(() => {
      this.timers.delete(reg.id);
      if (this.registrations.delete(reg.id)) this.emit('expired', reg);
    }, (reg.lifetime + (this.opts.graceSec ?? 2)) * 1000);
    t.unref();
    this.timers.set(reg.id, t);
  }

  private reply(res: coap.OutgoingMessage, code: string, payload?: string): void {
    res.code = code;
    res.end(payload ? Buffer.from(payload) : undefined);
  }

  private handle(req: coap.IncomingMessage, res: coap.OutgoingMessage): void {
    try {
      const path = options(req, 'Uri-Path');
      const query = new Map<string, string>();
      for (const q of options(req, 'Uri-Query')) {
        const i = q.indexOf('=');
        query.set(i < 0 ? q : q.slice(0, i), i < 0 ? '' : q.slice(i + 1));
      }
      if (path[0] !== 'rd') return this.reply(res, '4.04', 'not found');
      if (path.length === 1 && req.method === 'POST') return this.register(req, res, query);
      const reg = path.length === 2 ? this.registrations.get(path[1]) : undefined;
      if (!reg) return this.reply(res, '4.04', 'no such registration');
      if (req.method === 'POST') {
        if (query.has('lt')) reg.lifetime = Number(query.get('lt'));
        if (query.has('b')) reg.binding = query.get('b') as string;
        if (req.payload?.length) {
          reg.links = req.payload.toString('utf8');
          reg.instances = instanceLinks(reg.links);
        }
        reg.address = req.rsinfo.address;
        reg.port = req.rsinfo.port;
        reg.lastUpdate = Date.now();
        reg.updates++;
        this.arm(reg);
        this.reply(res, '2.04');
        this.emit('updated', reg);
        return;
      }
      if (req.method === 'DELETE') {
        this.registrations.delete(reg.id);
        clearTimeout(this.timers.get(reg.id));
        this.timers.delete(reg.id);
        this.reply(res, '2.02');
        this.emit('deregistered', reg);
        return;
      }
      this.reply(res, '4.05', 'method not allowed');
    } catch (err) {
      this.emit('warning', { message: (err as Error).message });
      this.reply(res, '5.00', 'internal error');
    }
  }

  private register(req: coap.IncomingMessage, res: coap.OutgoingMessage, q: Map<string, string>): void {
    const endpoint = q.get('ep');
    if (!endpoint) return this.reply(res, '4.00', 'ep missing');
    const lifetime = q.has('lt') ? Number(q.get('lt')) : 86400;
    if (!Number.isInteger(lifetime) || lifetime < 0) return this.reply(res, '4.00', 'bad lt');
    const old = this.byEndpoint(endpoint);
    if (old) {
      this.registrations.delete(old.id);
      clearTimeout(this.timers.get(old.id));
    }
    const links = req.payload?.toString('utf8') ?? '';
    const now = Date.now();
    const reg: Registration = {
      id: randomBytes(4).toString('hex'),
      endpoint,
      lifetime,
      lwm2mVersion: q.get('lwm2m') ?? '1.0',
      binding: q.get('b') ?? 'U',
      queueMode: q.has('Q'),
      links,
      instances: instanceLinks(links),
      address: req.rsinfo.address,
      port: req.rsinfo.port,
      registeredAt: now,
      lastUpdate: now,
      updates: 0,
    };
    this.registrations.set(reg.id, reg);
    this.arm(reg);
    res.setOption('Location-Path', [Buffer.from('rd'), Buffer.from(reg.id)]);
    this.reply(res, '2.01');
    this.emit('registered', reg);
  }

  /** Sends `POST <path>` (Execute) to a registered client; resolves with the response code. */
  execute(endpoint: string, path: string): Promise<string> {
    const reg = this.byEndpoint(endpoint);
    if (!reg) return Promise.reject(new RegistrationError(`${endpoint} is not registered`));
    const p = LwM2mPath.parse(path);
    if (p.level !== 'resource') return Promise.reject(new RegistrationError(`Execute needs /O/I/R, got ${path}`));
    const agent = this.agent;
    if (!agent) return Promise.reject(new RegistrationError('server not listening'));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        agent.abort(req);
        reject(new RegistrationError(`Execute ${path} on ${endpoint}: no response`));
      }, this.opts.requestTimeoutMs ?? 10_000);
      const req = agent.request({ hostname: reg.address, port: reg.port, method: 'POST', pathname: p.toString() });
      req.on('response', (res: coap.IncomingMessage) => {
        clearTimeout(timer);
        resolve(res.code);
      });
      req.on('error', (err: Error) => {
        clearTimeout(timer);
        reject(new RegistrationError(`Execute ${path} on ${endpoint}: ${err.message}`));
      });
      req.end();
    });
  }

  /** Executes the Bootstrap-Request Trigger /1/<instance>/9 (instance: the first /1/x the client listed). */
  bootstrapTrigger(endpoint: string, serverInstance?: number): Promise<string> {
    const reg = this.byEndpoint(endpoint);
    if (!reg) return Promise.reject(new RegistrationError(`${endpoint} is not registered`));
    const inst = serverInstance ?? Number(reg.instances.find((p) => p.startsWith('/1/'))?.split('/')[2] ?? 0);
    return this.execute(endpoint, `/1/${inst}/9`);
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.server?.close();
    this.agent?.close();
    this.server = undefined;
    this.agent = undefined;
    if (this.ownsSocket && this.socket) {
      const s = this.socket;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    this.socket = undefined;
  }
}

/**
 * SimulatedClient: an LwM2M device that behaves like Zephyr/nRF91-class firmware (OMA-TS-LightweightM2M_Core,
 * Bootstrap Interface: Bootstrap Sequence, Client-Initiated Bootstrap; RFC 7252 §4.8 timings): start-up order
 * (stored or factory configuration -> register; otherwise client-initiated bootstrap after the hold-off),
 * bootstrap on a staged store committed only by a consistent Finish, persistence, registration with every
 * configured server, re-bootstrap on repeated registration failures, on command and on /1/x/9, with jittered exponential back-off. It reports through events only:
 *
 *  'trace' (TraceEvent), 'state' ({state, previous, reason}), 'bootstrapped' ({bootstrapId, mode, ms}),
 *  'bootstrapFailed' ({bootstrapId, reason, attempt, retryInMs?}), 'diagram' ({bootstrapId, success, mermaid, reason?}),
 *  'registered' / 'updated' / 'registrationFailed' ({ssid, uri, location?, reason?}), 'warning' ({message}).
 */
import { EventEmitter } from 'events';
import { LwM2mPath } from '../model/path';
import { ContentFormat, PACK_FORMATS } from '../codec/formats';
import { applyPack, BootstrapTransaction, type HandlerConfig, type PayloadCodec } from './bootstrap-handler';
import { defaultCodec } from './codec-adapter';
import { checkConsistency, formatIssues } from './consistency';
import { DtlsPool } from './dtls-pool';
import { handleDmRequest } from './dm-handler';
import { FaultState, type FaultOptions } from './faults';
import { registerLinks } from './links';
import { ensureDevice, factoryStore, resolveOptions, type ClientOptions, type ResolvedOptions } from './options';
import { loadStore, removeStore, saveStore } from './persistence';
import { ServerRegistration, type RegistrationHost } from './registration';
import { isTrue, numberOf, stringOf, type ObjectStore } from './store';
import { sameAddress, targetFromSecurity, type Target } from './target';
import { bootstrapDelay, type ClientTiming } from './timing';
import { flattenNode, mermaidSequence, type TraceEvent } from './trace';
import { DeviceEndpoint, type Answer, type CoapRequest, type CoapResponse, type IncomingRequest } from './transport';

export type ClientState = 'idle' | 'holdoff' | 'bootstrapping' | 'registering' | 'registered' | 'failed' | 'stopped';

export class SimulatedClient extends EventEmitter implements RegistrationHost {
  readonly options: ResolvedOptions;
  readonly faults: FaultState;
  readonly codec: PayloadCodec;
  store: ObjectStore;
  state: ClientState = 'idle';
  /** Number of bootstrap attempts started so far (ids of diagrams and trace events). */
  bootstrapCount = 0;
  private attempt = 0;
  private endpoint: DeviceEndpoint | undefined;
  private readonly dtls: DtlsPool;
  private timer: NodeJS.Timeout | undefined;
  private finishTimer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private transaction: BootstrapTransaction | undefined;
  private bsTarget: Target | undefined;
  private bootstrapStarted = 0;
  /** Why the last Bootstrap-Finish of the current attempt was refused (reported if no command follows). */
  private finishRefusal: string | undefined;
  private diagramEvents: TraceEvent[] | undefined;
  /** The diagram already sent for the current attempt (a refused Finish), by attempt and event count. */
  private diagramSent: { id: number; events: number } | undefined;
  /** The last attempt whose configuration was committed. */
  private committedId = 0;
  /** The transaction a server-initiated bootstrap opened (its commit is reported as mode 'server-initiated'). */
  private serverInitiatedTx: BootstrapTransaction | undefined;
  private diagramPending = new Set<ServerRegistration>();
  registrations: ServerRegistration[] = [];
  private running = false;

  constructor(opts: ClientOptions) {
    super();
    this.options = resolveOptions(opts);
    this.faults = new FaultState(opts.faults, this.options.random);
    this.codec = opts.codec ?? defaultCodec();
    this.store = factoryStore(this.options);
    this.dtls = new DtlsPool({
      timeoutMs: Math.min(this.options.timing.requestTimeoutMs, 10_000),
      faults: this.faults,
      onError: (target, err) => this.warn(`DTLS ${target.uri}: ${err.message}`),
      onOpen: (target, endpoint) => endpoint.onRequest((req) => this.onRequest(req, target)),
      running: () => this.running,
    });
  }

  get endpointName(): string {
    return this.options.endpoint;
  }
  get version(): ResolvedOptions['version'] {
    return this.options.version;
  }
  get timing(): ClientTiming {
    return this.options.timing;
  }
  get random(): () => number {
    return this.options.random;
  }
  /** Local UDP port of the device (0 before start). */
  get port(): number {
    return this.endpoint?.localPort ?? 0;
  }

  private setState(state: ClientState, reason?: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.emit('state', { endpoint: this.endpointName, state, previous, reason });
  }

  private warn(message: string): void {
    this.emit('warning', { endpoint: this.endpointName, message });
  }

  /** Opens the socket and follows the start-up order: stored/factory configuration, else bootstrap. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.endpoint = await DeviceEndpoint.open({
      address: this.options.bindAddress,
      faults: this.faults,
      onError: (err) => this.warn(`socket: ${err.message}`),
    });
    this.endpoint.onRequest((req) => this.onRequest(req));
    if (this.options.storeFile) {
      try {
        const saved = await loadStore(this.options.storeFile, this.endpointName, this.options.model, this.options.supportedObjects);
        if (saved) {
          ensureDevice(saved, this.options);
          this.store = saved;
        }
      } catch (err) {
        this.warn(`${(err as Error).message}; starting from factory data`);
        this.store = factoryStore(this.options);
      }
    }
    await this.knowBootstrapServer();
    const delay = this.timing.startJitterMs > 0 ? Math.round(this.random() * this.timing.startJitterMs) : 0;
    this.later(delay, () => this.boot());
  }

  /**
   * Where the Bootstrap-Server account points, known before any bootstrap attempt so that a server-initiated
   * bootstrap from that address is recognised. A URI that does not resolve is reported when a bootstrap needs it.
   */
  private async knowBootstrapServer(): Promise<void> {
    const account = this.store.bootstrapAccount();
    if (!account || this.bsTarget) return;
    try {
      this.bsTarget = await targetFromSecurity(account);
    } catch {
      // bootstrapAttempt reports it
    }
  }

  private later(ms: number, fn: () => void): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(fn, ms);
  }

  private boot(): void {
    const usable = this.store.serverAccounts().some((a) => a.server) &&
      checkConsistency(this.store, { requireBootstrapAccount: false, ...this.consistencyOptions() }).length === 0;
    if (usable) this.registerAll();
    else this.scheduleBootstrap('no usable LwM2M Server account');
  }

  /** Stops everything; de-registers from the servers unless `deregister` is false (power loss). */
  async stop(deregister = true): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.finishTimer);
    clearTimeout(this.purgeTimer);
    this.transaction = undefined;
    await Promise.all(this.registrations.map((r) => r.stop(deregister)));
    this.registrations = [];
    await this.dtls.closeAll();
    await this.endpoint?.close();
    this.endpoint = undefined;
    this.setState('stopped');
  }

  /** Power cycle: no De-register, state kept in the store file (or in memory), start-up order again. */
  async reboot(): Promise<void> {
    await this.stop(false);
    this.setState('idle', 'reboot');
    this.attempt = 0;
    await this.start();
  }

  /** Factory reset: forget the provisioned store, back to factory data, bootstrap again. */
  async factoryReset(): Promise<void> {
    await this.stop(true);
    if (this.options.storeFile) await removeStore(this.options.storeFile);
    this.store = factoryStore(this.options);
    this.setState('idle', 'factory reset');
    this.attempt = 0;
    await this.start();
  }

  /** Client-initiated bootstrap on command (or after /1/x/9): leaves the servers, then bootstraps. */
  async rebootstrap(reason = 'bootstrap requested'): Promise<void> {
    if (!this.running) return;
    const regs = this.registrations;
    this.registrations = [];
    await Promise.all(regs.map((r) => r.stop(true)));
    this.attempt = 0;
    this.scheduleBootstrap(reason);
  }

  setFaults(f: FaultOptions): void {
    this.faults.set(f);
  }

  // ---- bootstrap ---------------------------------------------------------------------------------------

  private holdOffMs(): number {
    if (this.timing.holdOffMs !== undefined) return this.timing.holdOffMs;
    const s = numberOf(this.store.bootstrapAccount()?.resources.get(11));
    return s !== undefined && s > 0 ? s * 1000 : 0;
  }

  private scheduleBootstrap(reason: string): void {
    if (!this.running) return;
    clearTimeout(this.finishTimer);
    this.transaction = undefined;
    if (!this.store.bootstrapAccount()) {
      this.setState('failed', `${reason}, and no Bootstrap-Server account`);
      return;
    }
    const ms = bootstrapDelay(this.timing, this.holdOffMs(), this.attempt, this.random);
    this.setState('holdoff', reason);
    this.later(ms, () => void this.bootstrapAttempt());
  }

  private async bootstrapAttempt(): Promise<void> {
    if (!this.running) return;
    // A new attempt before the last one ended (a re-bootstrap quicker than the Finish timeout): its diagram
    // goes out now rather than being dropped with the events.
    if (this.diagramEvents && this.diagramEvents.length > 0) {
      const committed = this.committedId === this.bootstrapCount;
      this.emitDiagram(this.bootstrapCount, committed, [committed ? 'a new bootstrap began' : 'superseded by a new Bootstrap-Request']);
    }
    const id = ++this.bootstrapCount;
    this.bootstrapStarted = Date.now();
    this.diagramEvents = [];
    this.diagramSent = undefined;
    this.finishRefusal = undefined;
    this.faults.vanished = false;
    this.setState('bootstrapping');
    const account = this.store.bootstrapAccount();
    let target: Target;
    try {
      if (!account) throw new Error('no Bootstrap-Server account');
      target = await targetFromSecurity(account);
    } catch (err) {
      this.bootstrapFailed(id, (err as Error).message);
      return;
    }
    this.bsTarget = target;
    if (this.version === '1.2' && this.options.usePack !== false) {
      if (await this.tryPack(id, target)) return;
      if (!this.running || id !== this.bootstrapCount) return;
    }
    const query = [`ep=${this.endpointName}`];
    if (this.version !== '1.0') query.push(`pct=${this.options.formats[0]}`);
    // The transaction opens when the request goes out: over UDP the server's 2.04 may be lost (and come
    // again with the retransmitted request) while its first commands already arrive; firmware takes them.
    const tx = new BootstrapTransaction(this.store, this.handlerConfig());
    this.transaction = tx;
    let res: CoapResponse;
    try {
      res = await this.send('bs', target, { method: 'POST', path: ['bs'], query });
    } catch (err) {
      if (this.running && id === this.bootstrapCount && this.transaction === tx) this.bootstrapFailed(id, (err as Error).message);
      return;
    }
    if (!this.running || id !== this.bootstrapCount) return;
    if (this.transaction !== tx) return; // finished (or failed) while the response was on its way
    if (res.code !== '2.04') {
      this.bootstrapFailed(id, `Bootstrap-Request answered ${res.code}` + (res.payload.length ? `: ${res.payload.toString('utf8')}` : ''));
      return;
    }
    this.armFinishTimer(id);
  }

  private handlerConfig(): HandlerConfig {
    return {
      version: this.version,
      formats: this.options.formats,
      codec: this.codec,
      faults: this.faults,
      consistency: this.consistencyOptions(),
      noSecOnly: this.options.noSecOnly === true,
    };
  }

  private consistencyOptions(): { supportedSecurityModes?: number[]; noSecOnly: boolean } {
    return { supportedSecurityModes: this.options.securityModes, noSecOnly: this.options.noSecOnly === true };
  }

  private armFinishTimer(id: number): void {
    clearTimeout(this.finishTimer);
    this.finishTimer = setTimeout(() => {
      if (this.transaction && id === this.bootstrapCount) {
        this.transaction = undefined;
        const refused = this.finishRefusal;
        this.bootstrapFailed(
          id,
          refused
            ? `Bootstrap-Finish refused (${refused}), no further command within ${this.timing.bootstrapTimeoutMs} ms`
            : `no Bootstrap-Finish within ${this.timing.bootstrapTimeoutMs} ms`,
        );
      }
    }, this.timing.bootstrapTimeoutMs);
  }

  /** LwM2M 1.2: GET /bspack; true when the pack was applied and committed. */
  private async tryPack(id: number, target: Target): Promise<boolean> {
    const accept = this.options.formats.find((f) => PACK_FORMATS.includes(f)) ?? PACK_FORMATS[0];
    let res: CoapResponse;
    try {
      res = await this.send('bs', target, { method: 'GET', path: ['bspack'], query: [`ep=${this.endpointName}`], accept });
    } catch (err) {
      this.noteDiagram(`Bootstrap-Pack failed (${(err as Error).message}), falling back to POST /bs`);
      return false;
    }
    if (res.code !== '2.05') {
      this.noteDiagram(`Bootstrap-Pack answered ${res.code}, falling back to POST /bs`);
      return false;
    }
    try {
      const cf = res.contentFormat ?? accept;
      const pack = this.codec.decode(cf, LwM2mPath.root(), res.payload, this.options.model);
      const { staged, issues } = applyPack(this.store, pack, this.consistencyOptions());
      if (issues.length) {
        this.noteDiagram(`Bootstrap-Pack inconsistent: ${formatIssues(issues)}; falling back to POST /bs`);
        return false;
      }
      if (!this.running || id !== this.bootstrapCount) return true;
      await this.commit(id, staged, 'pack');
      return true;
    } catch (err) {
      this.noteDiagram(`Bootstrap-Pack unusable (${(err as Error).message}), falling back to POST /bs`);
      return false;
    }
  }

  private noteDiagram(note: string): void {
    const last = this.diagramEvents?.[this.diagramEvents.length - 1];
    if (last) last.note = note;
    this.warn(note);
  }

  private async commit(id: number, staged: ObjectStore, mode: 'request' | 'pack' | 'server-initiated'): Promise<void> {
    this.committedId = id;
    clearTimeout(this.finishTimer);
    this.transaction = undefined;
    const now = Math.floor(Date.now() / 1000);
    if (this.version !== '1.0') for (const s of staged.instances(1)) staged.setValue(1, s.id, 12, now);
    this.store = staged;
    this.attempt = 0;
    if (this.options.storeFile) {
      try {
        await saveStore(this.options.storeFile, this.endpointName, staged);
      } catch (err) {
        this.warn(`could not save the store: ${(err as Error).message}`);
      }
    }
    this.emit('bootstrapped', { endpoint: this.endpointName, bootstrapId: id, mode, ms: Date.now() - this.bootstrapStarted });
    const bs = this.store.bootstrapAccount();
    const purge = numberOf(bs?.resources.get(12));
    if (bs && purge !== undefined && purge > 0) {
      clearTimeout(this.purgeTimer);
      const bsId = bs.id;
      this.purgeTimer = setTimeout(() => {
        this.store.objects.get(0)?.delete(bsId);
        if (this.options.storeFile) void saveStore(this.options.storeFile, this.endpointName, this.store).catch(() => undefined);
      }, purge * 1000);
    }
    if (!this.running) return;
    this.registerAll(id);
  }

  private bootstrapFailed(id: number, reason: string): void {
    clearTimeout(this.finishTimer);
    // The next attempt starts with a new DTLS handshake, as firmware does: the server that held this session
    // may be gone (an instance behind a load balancer stopped), and its peers' sessions with it.
    if (this.bsTarget) void this.dtls.forget(this.bsTarget).catch(() => undefined);
    this.transaction = undefined;
    this.attempt++;
    const max = this.options.maxBootstrapAttempts;
    const giveUp = max !== undefined && this.attempt >= max;
    const retryInMs = giveUp ? undefined : bootstrapDelay(this.timing, this.holdOffMs(), this.attempt, this.random);
    this.emit('bootstrapFailed', { endpoint: this.endpointName, bootstrapId: id, reason, attempt: this.attempt, retryInMs });
    this.emitDiagram(id, false, [`bootstrap failed: ${reason}`]);
    if (!this.running) return;
    if (giveUp || retryInMs === undefined) {
      this.setState('failed', reason);
      return;
    }
    this.setState('holdoff', reason);
    this.later(retryInMs, () => void this.bootstrapAttempt());
  }

  /**
   * Sends the attempt's sequence diagram. `keep`: the attempt goes on (a refused Finish, after which the
   * server may send more commands), so go on recording; the final diagram is then sent only if something
   * happened since.
   */
  private emitDiagram(id: number, success: boolean, notes: string[] = [], keep = false): void {
    if (!this.diagramEvents) return;
    const events = this.diagramEvents;
    const already = this.diagramSent && this.diagramSent.id === id && this.diagramSent.events === events.length;
    if (keep) this.diagramSent = { id, events: events.length };
    else {
      this.diagramEvents = undefined;
      this.diagramPending.clear();
      this.diagramSent = undefined;
    }
    if (already) return;
    const mermaid = mermaidSequence(this.endpointName, events, notes);
    const reason = success ? undefined : notes[0]?.replace(/^bootstrap failed: /, '');
    this.emit('diagram', { endpoint: this.endpointName, bootstrapId: id, success, mermaid, reason });
  }

  // ---- registration ------------------------------------------------------------------------------------

  private registerAll(bootstrapId?: number): void {
    for (const r of this.registrations) void r.stop(false);
    this.registrations = [];
    const regs: ServerRegistration[] = [];
    const accounts = this.store.serverAccounts().filter((a) => a.server && a.ssid !== undefined);
    this.setState('registering');
    const pending = accounts.map(async (a) => {
      const target = await targetFromSecurity(a.security);
      const lifetime = numberOf(a.server?.resources.get(1)) ?? 86400;
      const binding = stringOf(a.server?.resources.get(7)) ?? 'U';
      return new ServerRegistration(this, a.ssid as number, target, lifetime, binding);
    });
    void Promise.allSettled(pending).then((results) => {
      if (!this.running) return;
      for (const r of results) {
        if (r.status === 'fulfilled') regs.push(r.value);
        else this.warn(`server account unusable: ${(r.reason as Error).message}`);
      }
      this.registrations = regs;
      if (bootstrapId !== undefined && this.diagramEvents) for (const r of regs) this.diagramPending.add(r);
      if (regs.length === 0) {
        if (bootstrapId !== undefined) this.emitDiagram(bootstrapId, true, ['no server to register with']);
        this.attempt++;
        this.scheduleBootstrap('no usable LwM2M Server account');
        return;
      }
      for (const r of regs) r.start();
    });
  }

  links(): string {
    return registerLinks(this.store, this.version, this.version === '1.0' ? undefined : this.options.formats[0]);
  }

  registered(reg: ServerRegistration): void {
    this.setState('registered');
    this.emit('registered', { endpoint: this.endpointName, ssid: reg.ssid, uri: reg.target.uri, location: reg.location?.join('/') });
  }

  updated(reg: ServerRegistration): void {
    this.emit('updated', { endpoint: this.endpointName, ssid: reg.ssid, uri: reg.target.uri });
  }

  settled(reg: ServerRegistration): void {
    if (!this.diagramPending.delete(reg)) return;
    if (this.diagramPending.size === 0) this.emitDiagram(this.bootstrapCount, true);
  }

  failed(reg: ServerRegistration, reason: string): void {
    this.emit('registrationFailed', { endpoint: this.endpointName, ssid: reg.ssid, uri: reg.target.uri, reason });
    if (!this.running) return;
    const all = this.registrations.every((r) => r.state === 'failed');
    if (!all) return;
    const fallback = this.registrations.some((r) => {
      const srv = this.store.instances(1).find((s) => numberOf(s.resources.get(0)) === r.ssid);
      const v = srv?.resources.get(16);
      return v === undefined || isTrue(v);
    });
    if (fallback && this.store.bootstrapAccount()) void this.rebootstrap(`registration failed: ${reason}`);
    else this.setState('failed', `registration failed: ${reason}`);
  }

  // ---- messages ----------------------------------------------------------------------------------------

  private trace(e: Omit<TraceEvent, 'time' | 'endpoint'>): void {
    const ev: TraceEvent = { time: Date.now(), endpoint: this.endpointName, ...e };
    if (this.diagramEvents && (e.peer === 'bs' || this.diagramPending.size > 0)) {
      if (e.peer === 'bs' || e.path.startsWith('/rd')) this.diagramEvents.push(ev);
    }
    if (this.options.trace) this.emit('trace', ev);
  }

  private async endpointFor(target: Target): Promise<DeviceEndpoint> {
    if (!target.secure) {
      if (!this.endpoint) throw new Error('client not started');
      return this.endpoint;
    }
    const wrong = this.faults.opts.wrongPskKey;
    return this.dtls.endpoint(target, wrong && this.bsTarget === target ? Buffer.from(wrong, 'hex') : undefined);
  }

  /** Sends a request to `target`, tracing both directions. */
  async send(
    peer: string,
    target: Target,
    req: Omit<CoapRequest, 'host' | 'port' | 'timeoutMs'>,
    timeoutMs?: number,
  ): Promise<CoapResponse> {
    const path = '/' + req.path.join('/');
    const query = req.query?.join('&');
    const base = { peer, address: target.address, port: target.port, method: req.method, path, query };
    const ep = await this.endpointFor(target);
    this.trace({
      ...base,
      direction: 'out',
      kind: 'request',
      contentFormat: req.contentFormat,
      accept: req.accept,
      size: req.payload?.length ?? 0,
      payload: req.contentFormat === ContentFormat.LINK ? req.payload?.toString('utf8') : undefined,
      bootstrapId: peer === 'bs' ? this.bootstrapCount : undefined,
    });
    let res: CoapResponse;
    try {
      res = await ep.request({ ...req, host: target.address, port: target.port, timeoutMs: timeoutMs ?? this.timing.requestTimeoutMs });
    } catch (err) {
      this.trace({ ...base, direction: 'in', kind: 'response', code: 'timeout', size: 0, note: (err as Error).message });
      throw err;
    }
    let payload: unknown;
    if (res.payload.length) {
      if (path === '/bspack' && res.code === '2.05') {
        try {
          payload = flattenNode(LwM2mPath.root(), this.codec.decode(res.contentFormat ?? req.accept ?? PACK_FORMATS[0], LwM2mPath.root(), res.payload, this.options.model));
        } catch {
          payload = `(${res.payload.length} bytes, not decodable)`;
        }
      } else payload = res.payload.toString('utf8');
    }
    this.trace({ ...base, direction: 'in', kind: 'response', code: res.code, contentFormat: res.contentFormat, size: res.payload.length, payload });
    return res;
  }

  /**
   * LwM2M 1.0 server-initiated bootstrap (OMA-TS-LightweightM2M_Core 1.0, Bootstrap Interface, Server
   * Initiated Bootstrap): like such devices, the client takes Bootstrap-Delete/Write/Finish from its
   * Bootstrap-Server without having asked, but only while it has no working LwM2M Server account (not
   * registered anywhere, or waiting to bootstrap) and still holds a Bootstrap-Server account.
   */
  private acceptsServerInitiated(): boolean {
    if (!this.running || !this.store.bootstrapAccount()) return false;
    // 'bootstrapping' without a transaction: a 1.2 device asking for a Bootstrap-Pack, its own bootstrap goes first.
    if (this.state === 'registered' || this.state === 'stopped' || this.state === 'bootstrapping') return false;
    return !this.registrations.some((r) => r.state === 'registered');
  }

  /** Opens the transaction of a server-initiated bootstrap; a pending client-initiated attempt waits. */
  private openServerInitiated(): BootstrapTransaction {
    clearTimeout(this.timer);
    const regs = this.registrations;
    this.registrations = [];
    for (const r of regs) void r.stop(false);
    const id = ++this.bootstrapCount;
    this.bootstrapStarted = Date.now();
    this.diagramEvents = [];
    this.finishRefusal = undefined;
    const tx = new BootstrapTransaction(this.store, this.handlerConfig());
    this.transaction = tx;
    this.serverInitiatedTx = tx;
    this.setState('bootstrapping', 'server-initiated bootstrap');
    this.armFinishTimer(id);
    return tx;
  }

  private isBsPeer(req: IncomingRequest, via?: Target): boolean {
    const t = this.bsTarget;
    if (!t) return false;
    if (via) return via === t;
    return sameAddress(req.address, t.address) && req.port === t.port;
  }

  private async onRequest(req: IncomingRequest, via?: Target): Promise<Answer> {
    const path = '/' + req.path.join('/');
    const fromBs = this.isBsPeer(req, via);
    const reg = fromBs
      ? undefined
      : this.registrations.find((r) => (via ? r.target === via : sameAddress(r.target.address, req.address) && r.target.port === req.port));
    const peer = fromBs ? 'bs' : reg ? reg.peer : 'peer';
    const base = { peer, address: req.address, port: req.port, method: req.method, path };
    const tx = this.transaction;
    const id = this.bootstrapCount;
    let answer: Answer;
    let inPayload: unknown;
    let outPayload: unknown;
    let after: (() => void) | undefined;
    if (fromBs && tx) {
      const vanish = this.faults.opts.vanishAfter;
      if (vanish !== undefined && tx.operations >= vanish) this.faults.vanished = true;
      const h = tx.handle(req);
      answer = h.answer;
      inPayload = h.requestPayload;
      outPayload = h.responsePayload ?? (answer.payload && !answer.contentFormat ? answer.payload.toString('utf8') : undefined);
      this.armFinishTimer(id);
      const mode = tx === this.serverInitiatedTx ? 'server-initiated' : 'request';
      if (h.finish === 'committed') after = () => void this.commit(id, tx.staged, mode);
      this.finishRefusal = h.finish === 'rejected' ? `${answer.code} ${answer.payload?.toString('utf8') ?? ''}`.trim() : undefined;
      // A trainer wants the diagram of a refused Finish now, not when the Finish timer runs out.
      const refusal = this.finishRefusal;
      if (refusal !== undefined) after = () => this.emitDiagram(id, false, [`bootstrap failed: Bootstrap-Finish refused (${refusal})`], true);
    } else if (fromBs && this.acceptsServerInitiated()) {
      const sx = this.openServerInitiated();
      const h = sx.handle(req);
      answer = h.answer;
      inPayload = h.requestPayload;
      outPayload = h.responsePayload ?? (answer.payload && !answer.contentFormat ? answer.payload.toString('utf8') : undefined);
      const sid = this.bootstrapCount;
      if (h.finish === 'committed') after = () => void this.commit(sid, sx.staged, 'server-initiated');
    } else if (fromBs) {
      answer = { code: '4.00', payload: Buffer.from(this.state === 'registered' ? 'registered with an LwM2M Server: no server-initiated bootstrap' : 'no bootstrap session in progress') };
    } else if (reg) {
      const dm = handleDmRequest(this, reg, req);
      answer = dm.answer;
      outPayload = dm.responsePayload;
      after = dm.after;
    } else {
      answer = { code: '4.01', payload: Buffer.from('unknown peer') };
    }
    this.trace({
      ...base,
      direction: 'in',
      kind: 'request',
      contentFormat: req.contentFormat,
      accept: req.accept,
      size: req.payload.length,
      payload: inPayload,
      bootstrapId: fromBs ? id : undefined,
    });
    const delay = this.faults.opts.responseDelayMs;
    if (delay && delay > 0) await new Promise((r) => setTimeout(r, delay));
    this.trace({
      ...base,
      direction: 'out',
      kind: 'response',
      code: answer.code,
      contentFormat: answer.contentFormat,
      size: answer.payload?.length ?? 0,
      payload: outPayload,
      bootstrapId: fromBs ? id : undefined,
    });
    if (after) setImmediate(after);
    return answer;
  }
}

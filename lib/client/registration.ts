/**
 * One registration of a device with one LwM2M (DM) server: Register (`POST /rd?ep=&lt=&lwm2m=&b=` with the
 * object links), Update (`POST /rd/<loc>`) at lifetime intervals, De-register (`DELETE /rd/<loc>`), with
 * exponential retries; after `registrationRetries` failures it reports itself failed and the client may
 * fall back to bootstrap.
 */
import { ContentFormat } from '../codec/formats';
import type { CoapResponse, CoapRequest } from './transport';
import type { Target } from './target';
import type { ClientTiming } from './timing';
import { registrationRetryDelay } from './timing';
import type { Lwm2mVersion } from './links';

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export interface RegistrationHost {
  readonly endpointName: string;
  readonly version: Lwm2mVersion;
  readonly timing: ClientTiming;
  readonly random: () => number;
  send(peer: string, target: Target, req: Omit<CoapRequest, 'host' | 'port' | 'timeoutMs'>, timeoutMs?: number): Promise<CoapResponse>;
  links(): string;
  registered(reg: ServerRegistration, first: boolean): void;
  updated(reg: ServerRegistration): void;
  failed(reg: ServerRegistration, reason: string): void;
  /** First attempt of this registration finished (success or not), for the bootstrap diagram. */
  settled(reg: ServerRegistration): void;
}

export class ServerRegistration {
  state: RegistrationState = 'idle';
  location: string[] | undefined;
  failures = 0;
  lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private settledOnce = false;

  constructor(
    readonly host: RegistrationHost,
    readonly ssid: number,
    readonly target: Target,
    readonly lifetime: number,
    readonly binding: string,
  ) {}

  /** Read through a method so TypeScript does not narrow the state across an await. */
  private stopped(): boolean {
    return this.state === 'stopped';
  }

  get peer(): string {
    return `server:${this.ssid}`;
  }

  start(): void {
    this.state = 'registering';
    void this.register();
  }

  private schedule(ms: number, fn: () => void): void {
    clearTimeout(this.timer);
    if (this.state === 'stopped') return;
    this.timer = setTimeout(fn, ms);
  }

  private settle(): void {
    if (!this.settledOnce) {
      this.settledOnce = true;
      this.host.settled(this);
    }
  }

  private updatePeriodMs(): number {
    const t = this.host.timing;
    if (t.updateIntervalMs !== undefined) return t.updateIntervalMs;
    const lt = this.lifetime > 0 ? this.lifetime : 86400;
    return Math.max(1000, Math.round(lt * 1000 * t.updateRatio));
  }

  private async register(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'registering';
    const query = [`ep=${this.host.endpointName}`, `lt=${this.lifetime}`, `lwm2m=${this.host.version}`, `b=${this.binding}`];
    try {
      const res = await this.host.send(this.peer, this.target, {
        method: 'POST',
        path: ['rd'],
        query,
        contentFormat: ContentFormat.LINK,
        payload: Buffer.from(this.host.links()),
      });
      if (this.stopped()) return;
      if (res.code !== '2.01' || res.locationPath.length === 0) {
        this.fail(`Register answered ${res.code}` + (res.payload.length ? `: ${res.payload.toString('utf8')}` : ''));
        return;
      }
      this.location = res.locationPath;
      this.failures = 0;
      this.lastError = undefined;
      this.state = 'registered';
      this.host.registered(this, true);
      this.settle();
      this.schedule(this.updatePeriodMs(), () => void this.update());
    } catch (err) {
      if (this.stopped()) return;
      this.fail((err as Error).message);
    }
  }

  private fail(reason: string): void {
    this.failures++;
    this.lastError = reason;
    this.settle();
    if (this.failures >= this.host.timing.registrationRetries) {
      this.state = 'failed';
      clearTimeout(this.timer);
      this.host.failed(this, reason);
      return;
    }
    this.state = 'registering';
    this.schedule(registrationRetryDelay(this.host.timing, this.failures, this.host.random), () => void this.register());
  }

  /** Sends an Update now (Registration Update Trigger, or the lifetime timer). */
  async update(): Promise<void> {
    if (this.state !== 'registered' || !this.location) return;
    clearTimeout(this.timer);
    try {
      const res = await this.host.send(this.peer, this.target, { method: 'POST', path: this.location });
      if (this.state !== 'registered') return;
      if (res.code === '2.04') {
        this.host.updated(this);
        this.schedule(this.updatePeriodMs(), () => void this.update());
      } else {
        // 4.04: the server forgot us; register again.
        this.location = undefined;
        void this.register();
      }
    } catch (err) {
      if (this.state !== 'registered') return;
      this.location = undefined;
      this.fail(`Update failed: ${(err as Error).message}`);
    }
  }

  /** Stops timers and, when registered, sends De-register (best effort, short timeout). */
  async stop(deregister: boolean): Promise<void> {
    const wasRegistered = this.state === 'registered' && this.location;
    this.state = 'stopped';
    clearTimeout(this.timer);
    if (deregister && wasRegistered && this.location) {
      try {
        await this.host.send(this.peer, this.target, { method: 'DELETE', path: this.location }, Math.min(this.host.timing.requestTimeoutMs, 5000));
      } catch {
        // De-register is best effort: the server expires the registration at its lifetime anyway.
      }
    }
  }
}

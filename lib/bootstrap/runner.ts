/**
 * The library-only bootstrap, used by benchmarks and by the nodes: accept the Bootstrap-Request,
 * Bootstrap-Discover when the profile asks for automatic instance ids, plan the requests from the profile,
 * send them one by one. Bootstrap-Finish stays a separate call (`session.finish()`), so a caller can look
 * at the results first.
 *
 * A Write answered 4.15 (Unsupported Content-Format) is retried in the next hierarchical format,
 * SenML CBOR -> SenML JSON -> TLV (OMA-TS-LightweightM2M_Core, Bootstrap Interface: a client answers 4.15 to a
 * format it does not support), and later writes use the format that worked. A NoSec Security Write refused
 * with 4.00/4.04/4.05 is sent once more without its empty key resources 3, 4, 5 (nosec-keys.ts), and the
 * session's later NoSec Security writes leave them out from the start.
 */
import { WRITE_FORMAT_FALLBACK } from '../codec/formats';
import { contentFormatFor, planBootstrap, wantsDiscovery } from '../profile/plan';
import type { BootstrapProfile } from '../profile/types';
import type { ValidatedProfile } from '../profile/validated';
import type { DiscoverInfo } from './codec-port';
import { KEYLESS_RETRY_CODES, keylessWrite } from './nosec-keys';
import { handled } from './promise';
import { BootstrapDiscoverRequest, BootstrapWriteRequest, type BootstrapDownlinkRequest } from './requests';
import type { BootstrapSession, RequestOwner, SendOptions, SendResult } from './session';


export interface RunBootstrapOptions {
  /** Stop at the first request that fails (error code or decode error). Default false: go on, as Leshan does. */
  stopOnError?: boolean;
  /** Timeout per request, ms (default: the server's requestTimeoutMs). */
  requestTimeoutMs?: number;
  /** Write format; default: the profile's fixed format, else the session's pct, else TLV. */
  contentFormat?: number;
  /** LwM2M version of the client when known (otherwise from Discover). */
  lwm2mVersion?: string;
}

export interface RunStep {
  request: BootstrapDownlinkRequest;
  response: SendResult;
  /** Formats tried before the one in `request` (on 4.15). */
  retriedFormats?: number[];
  /** The device refused this NoSec Security Write with the key resources 3, 4, 5; `request` is the retry without them. */
  retriedWithoutKeys?: boolean;
}

export interface RunBootstrapResult {
  steps: RunStep[];
  discovered?: DiscoverInfo;
  /** The write format in use at the end (after any 4.15 fallback). */
  contentFormat: number;
  /** True when stopOnError stopped the run early. */
  stopped: boolean;
  /** True when every step succeeded (a refused Discover the run fell back from does not count against it). */
  ok: boolean;
  /**
   * The device refused Bootstrap-Discover (an error code, e.g. 4.05 from a 1.0 client): the run went on with
   * the plan of a device without Discover (the Bootstrap-Server account at bootstrapAccountInstanceId).
   */
  discoveryRefused?: { code: string; diagnostic?: string };
}

/**
 * Runs the bootstrap of `profile` on `session` up to (not including) Bootstrap-Finish.
 * Rejects when the session ends underneath it (timeout, Reset, cancellation): the session has the outcome.
 */
export function runBootstrap(
  session: BootstrapSession,
  profile: ValidatedProfile,
  opts: RunBootstrapOptions = {},
): Promise<RunBootstrapResult> {
  return handled(new Promise<RunBootstrapResult>((resolve, reject) => new Run(session, profile, opts, resolve, reject).begin()));
}

/**
 * One run: its state, and the steps from one answer to the next request. It hears each answer from the
 * session directly (RequestOwner): an async function awaiting a promise per request cost a promise, its
 * resolving functions, a reaction and a resumption per request, and held its whole register file while
 * suspended; this object is all a session waiting on its device holds of the run. The rare retries (4.15,
 * keyless) stay an async function of their own.
 */
class Run implements RequestOwner {
  readonly steps: RunStep[] = [];
  readonly sendOpts: SendOptions;
  discovered: DiscoverInfo | undefined;
  discoveryRefused: RunBootstrapResult['discoveryRefused'];
  /** The write format in use (after any 4.15 fallback). */
  cf = 0;
  /** Formats the device answered 4.15 to. */
  unsupported: Set<number> | undefined;
  /** The plan, once made (undefined while the Discover is out). */
  private planned: readonly BootstrapDownlinkRequest[] | undefined;
  /** The index in the plan of the request out now. */
  private at = 0;
  /** The request out now, as it went (prepare()). */
  private current: BootstrapDownlinkRequest | undefined;
  private settled = false;

  constructor(
    readonly session: BootstrapSession,
    readonly profile: ValidatedProfile,
    readonly opts: RunBootstrapOptions,
    private readonly resolve: (r: RunBootstrapResult) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    this.sendOpts = opts.requestTimeoutMs !== undefined ? { timeoutMs: opts.requestTimeoutMs } : NO_OPTIONS;
  }

  begin(): void {
    this.session.accept().then(
      () => this.guard(() => this.accepted()),
      (err: unknown) => this.fail(err),
    );
  }

  private accepted(): void {
    if (wantsDiscovery(this.profile)) {
      this.current = DISCOVER_ROOT;
      this.session.requestTo(DISCOVER_ROOT, this.sendOpts, this);
      return;
    }
    this.startPlan();
  }

  private startPlan(): void {
    this.planned = this.plan();
    this.at = 0;
    this.next();
  }

  /** Sends the plan's next request, or ends the run when none is left. */
  private next(): void {
    const plan = this.planned!;
    if (this.at >= plan.length) return this.done(false);
    const request = this.prepare(plan[this.at]);
    this.current = request;
    this.session.requestTo(request, this.sendOpts, this);
  }

  /** RequestOwner: the session's answer to the request out now, or the error the run ends with. */
  onRequestDone(response: SendResult | undefined, err: Error | undefined): void {
    if (err !== undefined || response === undefined) return this.fail(err);
    try {
      this.answered(response);
    } catch (e) {
      this.fail(e);
    }
  }

  private answered(response: SendResult): void {
    const request = this.current!;
    this.current = undefined;
    if (this.planned === undefined) {
      if (this.onDiscover(DISCOVER_ROOT, response)) return this.done(true);
      return this.startPlan();
    }
    if (request.type === 'BootstrapWriteRequest' && needsRetry(response)) {
      retried(this, request, response).then(
        (step) => this.guard(() => this.stepDone(step)),
        (e: unknown) => this.fail(e),
      );
      return;
    }
    this.stepDone({ request, response });
  }

  private stepDone(step: RunStep): void {
    if (this.add(step)) return this.done(true);
    this.at++;
    this.next();
  }

  /** Runs a step of the run; what it throws (a plan that cannot be made, a request refused) ends the run. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private done(stopped: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(this.result(stopped));
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }

  /** Takes the Discover's answer; true when the run stops here (stopOnError and a response that could not be read). */
  onDiscover(request: BootstrapDiscoverRequest, response: SendResult): boolean {
    this.steps.push({ request, response });
    if (response.success && response.discover) {
      this.discovered = response.discover;
    } else if (!response.success) {
      // A device may refuse Bootstrap-Discover (4.05 Method Not Allowed from 1.0 firmware; 4.04, 4.00, 5.00 say
      // as little; OMA-TS-LightweightM2M_Core, Bootstrap Interface, Bootstrap-Discover): go on with the plan of
      // a device that was not asked (the Bootstrap-Server account at bootstrapAccountInstanceId), even with
      // stopOnError, rather than leave the session hanging until its timeout.
      const refused: NonNullable<RunBootstrapResult['discoveryRefused']> = { code: response.code };
      if (response.diagnostic) refused.diagnostic = response.diagnostic;
      this.discoveryRefused = refused;
    } else if (this.opts.stopOnError) {
      this.cf = initialFormat(this.session, this.profile, this.opts);
      return true;
    }
    return false;
  }

  plan(): readonly BootstrapDownlinkRequest[] {
    this.cf = initialFormat(this.session, this.profile, this.opts);
    const lwm2mVersion = this.opts.lwm2mVersion ?? this.discovered?.lwm2mVersion ?? this.session.lwm2mVersion;
    return planBootstrap(this.profile, { contentFormat: this.cf, discovered: this.discovered, lwm2mVersion });
  }

  /** The planned request as it goes out: in the format that worked, without the NoSec keys the device refused. */
  prepare(planned: BootstrapDownlinkRequest): BootstrapDownlinkRequest {
    let request = planned;
    if (request.type === 'BootstrapWriteRequest' && this.unsupported?.has(request.contentFormat)) {
      request = new BootstrapWriteRequest(request.path, request.node, this.cf);
    }
    if (request.type === 'BootstrapWriteRequest' && this.session.omitNoSecKeys) request = keylessWrite(request) ?? request;
    return request;
  }

  /** Records a step; true when the run stops here (stopOnError and the step failed). */
  add(step: RunStep): boolean {
    this.steps.push(step);
    return this.opts.stopOnError === true && (!step.response.success || !!step.response.decodeError);
  }

  result(stopped: boolean): RunBootstrapResult {
    return finish(this.steps, this.discovered, this.cf, stopped, this.discoveryRefused);
  }
}

/**
 * Bootstrap-Discover of `/`, one for every run: requests are read-only once built (~0.2 KiB with its path and
 * Accept option, held by every session waiting on its Discover).
 */
const DISCOVER_ROOT = new BootstrapDiscoverRequest('/');

/** The send options of a run without a timeout of its own (send() only reads them). */
const NO_OPTIONS: SendOptions = Object.freeze({});

function needsRetry(response: SendResult): boolean {
  return response.code === '4.15' || KEYLESS_RETRY_CODES.includes(response.code);
}

/** A Write answered 4.15 (the next formats) or 4.00/4.04/4.05 (once more without the NoSec keys): the step it ends as. */
async function retried(r: Run, first: BootstrapWriteRequest, firstResponse: SendResult): Promise<RunStep> {
  const session = r.session;
  let request: BootstrapWriteRequest = first;
  let response = firstResponse;
  let retriedFormats: number[] | undefined;
  if (response.code === '4.15') {
    const tried = [first.contentFormat];
    for (const next of WRITE_FORMAT_FALLBACK) {
      if (tried.includes(next)) continue;
      tried.push(next);
      const again: BootstrapWriteRequest = new BootstrapWriteRequest(first.path, first.node, next);
      const res = await session.request(again, { ...r.sendOpts, supersedes: true }).catch((err: unknown) => {
        if (session.state === 'ended') throw err;
        return undefined; // this format cannot carry the tree: try the next
      });
      if (!res) continue;
      request = again;
      response = res;
      if (res.code !== '4.15') break;
    }
    const used = request.contentFormat;
    retriedFormats = tried.filter((f) => f !== used);
    if (response.success) {
      r.cf = request.contentFormat;
      const unsupported = (r.unsupported ??= new Set<number>());
      for (const f of retriedFormats) unsupported.add(f);
    }
  }
  let withoutKeys = false;
  if (KEYLESS_RETRY_CODES.includes(response.code)) {
    const keyless = keylessWrite(request);
    if (keyless) {
      const res = await session.request(keyless, { ...r.sendOpts, retriedWithoutKeys: true, supersedes: true });
      request = keyless;
      response = res;
      withoutKeys = true;
      if (res.success) session.omitNoSecKeys = true;
    }
  }
  const step: RunStep = { request, response };
  if (retriedFormats) step.retriedFormats = retriedFormats;
  if (withoutKeys) step.retriedWithoutKeys = true;
  return step;
}

/** opts.contentFormat, else the profile's fixed format, else the client's pct, else TLV (plan.contentFormatFor). */
function initialFormat(session: BootstrapSession, profile: BootstrapProfile, opts: RunBootstrapOptions): number {
  return opts.contentFormat ?? contentFormatFor(profile, session.preferredContentFormat);
}

function finish(
  steps: RunStep[],
  discovered: DiscoverInfo | undefined,
  cf: number,
  stopped: boolean,
  discoveryRefused?: RunBootstrapResult['discoveryRefused'],
): RunBootstrapResult {
  // The refused Discover is the first step; the run fell back from it, so it does not make the run fail.
  const counted = discoveryRefused ? steps.slice(1) : steps;
  const ok = counted.every((s) => s.response.success && !s.response.decodeError);
  const r: RunBootstrapResult = { steps, contentFormat: cf, stopped, ok };
  if (discovered) r.discovered = discovered;
  if (discoveryRefused) r.discoveryRefused = discoveryRefused;
  return r;
}

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
import type { BootstrapSession, SendResult } from './session';


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
  return handled(run(session, profile, opts));
}

async function run(session: BootstrapSession, profile: ValidatedProfile, opts: RunBootstrapOptions): Promise<RunBootstrapResult> {
  await session.accept();
  const sendOpts = opts.requestTimeoutMs !== undefined ? { timeoutMs: opts.requestTimeoutMs } : {};
  const steps: RunStep[] = [];
  let discovered: DiscoverInfo | undefined;
  let discoveryRefused: RunBootstrapResult['discoveryRefused'];
  if (wantsDiscovery(profile)) {
    const request = new BootstrapDiscoverRequest('/');
    const response = await session.send(request, sendOpts);
    steps.push({ request, response });
    if (response.success && response.discover) {
      discovered = response.discover;
    } else if (!response.success) {
      // A device may refuse Bootstrap-Discover (4.05 Method Not Allowed from 1.0 firmware; 4.04, 4.00, 5.00 say
      // as little; OMA-TS-LightweightM2M_Core, Bootstrap Interface, Bootstrap-Discover): go on with the plan of
      // a device that was not asked (the Bootstrap-Server account at bootstrapAccountInstanceId), even with
      // stopOnError, rather than leave the session hanging until its timeout.
      discoveryRefused = { code: response.code };
      if (response.diagnostic) discoveryRefused.diagnostic = response.diagnostic;
    } else if (opts.stopOnError) {
      return finish(steps, discovered, initialFormat(session, profile, opts), true);
    }
  }
  let cf = initialFormat(session, profile, opts);
  const lwm2mVersion = opts.lwm2mVersion ?? discovered?.lwm2mVersion ?? session.lwm2mVersion;
  const plan = planBootstrap(profile, { contentFormat: cf, discovered, lwm2mVersion });
  const unsupported = new Set<number>();
  for (const planned of plan) {
    let request: BootstrapDownlinkRequest = planned;
    if (request.type === 'BootstrapWriteRequest' && unsupported.has(request.contentFormat)) {
      request = new BootstrapWriteRequest(request.path, request.node, cf);
    }
    if (request.type === 'BootstrapWriteRequest' && session.omitNoSecKeys) request = keylessWrite(request) ?? request;
    let response = await session.send(request, sendOpts);
    let retried: number[] | undefined;
    if (request.type === 'BootstrapWriteRequest' && response.code === '4.15') {
      const first: BootstrapWriteRequest = request;
      const tried = [first.contentFormat];
      for (const next of WRITE_FORMAT_FALLBACK) {
        if (tried.includes(next)) continue;
        tried.push(next);
        const again: BootstrapWriteRequest = new BootstrapWriteRequest(first.path, first.node, next);
        const r = await session.send(again, { ...sendOpts, supersedes: true }).catch((err: unknown) => {
          if (session.state === 'ended') throw err;
          return undefined; // this format cannot carry the tree: try the next
        });
        if (!r) continue;
        request = again;
        response = r;
        if (r.code !== '4.15') break;
      }
      const used = (request as BootstrapWriteRequest).contentFormat;
      retried = tried.filter((f) => f !== used);
      if (response.success) {
        cf = (request as BootstrapWriteRequest).contentFormat;
        for (const f of retried) unsupported.add(f);
      }
    }
    let withoutKeys = false;
    if (request.type === 'BootstrapWriteRequest' && KEYLESS_RETRY_CODES.includes(response.code)) {
      const keyless = keylessWrite(request);
      if (keyless) {
        const r = await session.send(keyless, { ...sendOpts, retriedWithoutKeys: true, supersedes: true });
        request = keyless;
        response = r;
        withoutKeys = true;
        if (r.success) session.omitNoSecKeys = true;
      }
    }
    const step: RunStep = { request, response };
    if (retried) step.retriedFormats = retried;
    if (withoutKeys) step.retriedWithoutKeys = true;
    steps.push(step);
    if (opts.stopOnError && (!response.success || response.decodeError)) {
      return finish(steps, discovered, cf, true, discoveryRefused);
    }
  }
  return finish(steps, discovered, cf, false, discoveryRefused);
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

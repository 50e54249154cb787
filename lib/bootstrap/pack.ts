/**
 * A Bootstrap-Pack-Request (LwM2M 1.2, `GET /bspack?ep=…`) waiting for the flow's answer: the whole
 * configuration in one 2.05 payload (`respond`), or an error code (`reject`). Unanswered, it gets the
 * server's default code (4.04, on which clients fall back to POST /bs) after packResponseTimeoutMs.
 */
import { randomUUID } from 'crypto';
import { LwM2mPath } from '../model/path';
import type { ObjectModel, RootNode } from '../model/types';
import { safeText, toPeerIdentity, type AuditRecord, type AuditStep, type Peer, type PeerIdentity } from './audit';
import { encodePayload } from './codec-port';
import type { InboundExchange } from './coap/endpoint';
import { isResponseCode } from './coap/message';
import { blockSize } from './coap/transfer';
import { PackBlockCache, type PackBlock } from './pack-blocks';
import { RequestFailedError, ResponseCodeError, SessionStateError } from './errors';
import { SessionOutcome } from './outcome';
import { handled, rejected } from './promise';

/** Content formats a Bootstrap-Pack may be sent in (the content-format table's `pack` rows): SenML CBOR, SenML JSON, LwM2M CBOR. */
export { PACK_FORMATS } from '../codec/formats';

export interface PackHost {
  readonly model: ObjectModel | undefined;
  /** The request has been answered; its outcome and audit() are final. */
  packDone(p: BootstrapPackRequest): void;
  /** Keeps a pack that did not fit one block, for the client's requests of the next blocks. */
  keepPack(p: BootstrapPackRequest, payload: Buffer): void;
}

export interface PackInit {
  endpoint: string;
  accept: number;
  peer: Peer;
  identity?: unknown;
  query: Record<string, string>;
  /** SZX the client asked for in a Block2 option of its request (default 6, 1024 bytes). */
  blockSzx?: number;
}

export class BootstrapPackRequest {
  readonly type = 'BootstrapPackRequest' as const;
  readonly kind = 'pack' as const;
  readonly id: string = randomUUID();
  readonly endpoint: string;
  /** The format the client asked for (Accept): 112, 110 or 11544. */
  readonly accept: number;
  readonly peer: Peer;
  readonly identity: PeerIdentity | undefined;
  readonly query: Record<string, string>;
  /** Set once answered: SUCCESS (2.05 with the pack), the flow's outcome, TIMEOUT or CANCELLED. */
  outcome: SessionOutcome | undefined;
  detail: string | undefined;
  private exchange: InboundExchange | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly blockSzx: number;
  private readonly createdAt = Date.now();
  private endedAt: number | undefined;
  private step: AuditStep | undefined;

  constructor(
    private readonly host: PackHost,
    exchange: InboundExchange,
    init: PackInit,
    timeoutMs: number,
    private readonly defaultCode: string,
  ) {
    this.exchange = exchange;
    this.endpoint = init.endpoint;
    this.accept = init.accept;
    this.peer = init.peer;
    this.identity = toPeerIdentity(init.identity);
    this.query = init.query;
    this.blockSzx = Math.min(init.blockSzx ?? 6, 6);
    this.timer = setTimeout(BootstrapPackRequest.onTimeout, timeoutMs, this);
    this.timer.unref?.();
  }

  get answered(): boolean {
    return this.exchange === undefined;
  }

  /** Answers 2.05 with `root` encoded in the Accept format. Throws (rejects) CodecError on a bad tree. */
  respond(root: RootNode): Promise<void> {
    if (!this.exchange) return rejected(new SessionStateError('answered', 'this Bootstrap-Pack-Request was already answered'));
    let payload: Buffer;
    try {
      payload = encodePayload(this.accept, LwM2mPath.root(), root, this.host.model);
    } catch (err) {
      return rejected(err);
    }
    this.conclude(SessionOutcome.SUCCESS, undefined, '2.05');
    if (payload.length <= blockSize(this.blockSzx)) return this.answer('2.05', payload, this.accept);
    // Too large for one datagram: block 0 now, the rest from the server's pack cache (RFC 7959 Block2).
    this.host.keepPack(this, payload);
    const first = PackBlockCache.block(payload, this.accept, 0, this.blockSzx) as PackBlock;
    return this.answer('2.05', first.payload, this.accept, first.options);
  }

  /**
   * Answers an error code (default 4.04) with an optional diagnostic text; the record's outcome is
   * `outcome` (default REJECTED; e.g. NO_BOOTSTRAP_CONFIG, UNAUTHORIZED).
   */
  reject(code = '4.04', diagnostic?: string, outcome: SessionOutcome = SessionOutcome.REJECTED): Promise<void> {
    if (!isResponseCode(code) || code.startsWith('2')) return rejected(new ResponseCodeError(code));
    if (!this.exchange) return rejected(new SessionStateError('answered', 'this Bootstrap-Pack-Request was already answered'));
    this.conclude(outcome, diagnostic ? `${code} ${safeText(diagnostic)}` : code, code, diagnostic);
    return this.answer(code, diagnostic ? Buffer.from(diagnostic, 'utf8') : undefined, undefined);
  }

  /** Answers the default code if still open (server close: CANCELLED by default). */
  cancel(outcome: SessionOutcome = SessionOutcome.CANCELLED, detail = 'bootstrap server closed'): void {
    if (!this.exchange) return;
    this.conclude(outcome, `${this.defaultCode} ${detail}`, this.defaultCode);
    void this.answer(this.defaultCode, undefined, undefined).catch(() => undefined);
  }

  /** The record of this Bootstrap-Pack-Request: who asked, in which format, how it was answered. No pack content. */
  audit(): AuditRecord {
    const rec: AuditRecord = {
      kind: 'pack',
      sessionId: this.id,
      endpoint: this.endpoint,
      peer: { ...this.peer },
      query: { ...this.query },
      // Bootstrap-Pack exists from LwM2M 1.2 on (OMA-TS-LightweightM2M_Core-V1_2, Bootstrap Interface: Bootstrap-Pack-Request).
      lwm2mVersion: '1.2',
      startedAt: new Date(this.createdAt).toISOString(),
      steps: this.step ? [{ ...this.step }] : [],
    };
    if (this.identity) rec.identity = { ...this.identity };
    if (this.endedAt !== undefined) rec.endedAt = new Date(this.endedAt).toISOString();
    if (this.outcome !== undefined) rec.outcome = this.outcome;
    if (this.detail !== undefined) rec.detail = this.detail;
    return rec;
  }

  private conclude(outcome: SessionOutcome, detail: string | undefined, code: string, diagnostic?: string): void {
    this.outcome = outcome;
    this.detail = detail;
    this.endedAt = Date.now();
    const step: AuditStep = {
      op: 'pack',
      method: 'GET',
      path: '/bspack',
      contentFormat: this.accept,
      code,
      success: code === '2.05',
      ms: this.endedAt - this.createdAt,
    };
    if (diagnostic) step.diagnostic = safeText(diagnostic);
    this.step = step;
  }

  private answer(
    code: string,
    payload: Buffer | undefined,
    contentFormat: number | undefined,
    options?: { name: string; value: Buffer }[],
  ): Promise<void> {
    const ex = this.exchange as InboundExchange;
    this.exchange = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.host.packDone(this);
    return handled(
      new Promise<void>((resolve, reject) => {
        ex.respond(code, { payload, contentFormat, options }, (err) => {
          if (err) reject(new RequestFailedError(code, '/bspack', 'send', err.message));
          else resolve();
        });
      }),
    );
  }

  private static onTimeout(p: BootstrapPackRequest): void {
    p.timer = undefined;
    p.cancel(SessionOutcome.TIMEOUT, 'no answer from the flow in time');
  }
}

/**
 * The device side of the Bootstrap Interface (OMA-TS-LightweightM2M_Core, Bootstrap Interface): one BootstrapTransaction per
 * bootstrap session works on a staged copy of the store and answers Write, Delete, Discover, Read and
 * Finish like firmware would. Nothing reaches the live store until Finish passes the consistency checks.
 */
import { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectInstanceNode } from '../model/types';
import { ContentFormat, deviceDefaultFormats, SINGLE_VALUE_FORMATS } from '../codec/formats';
import { checkConsistency, formatIssues, type ConsistencyIssue, type ConsistencyOptions } from './consistency';
import { BootstrapRefusedError } from './errors';
import type { FaultState } from './faults';
import { bootstrapDiscoverLinks, type Lwm2mVersion } from './links';
import { numberOf, type ObjectStore } from './store';
import type { Answer, IncomingRequest } from './transport';
import { flattenNode } from './trace';

/** The codec functions the client uses (lib/codec's `encode` / `decode`). */
export interface PayloadCodec {
  encode(cf: number, path: LwM2mPath, node: LwM2mNode, model: ObjectStore['model']): Buffer;
  decode(cf: number, path: LwM2mPath, payload: Buffer, model: ObjectStore['model']): LwM2mNode;
}

/** Hierarchical formats a device of each version accepts by default; the first is its `pct`. */
export const DEFAULT_FORMATS: Record<Lwm2mVersion, number[]> = {
  '1.0': deviceDefaultFormats('1.0'),
  '1.1': deviceDefaultFormats('1.1'),
  '1.2': deviceDefaultFormats('1.2'),
};

export interface HandlerConfig {
  version: Lwm2mVersion;
  formats: number[];
  codec: PayloadCodec;
  faults: FaultState;
  consistency?: ConsistencyOptions;
  /** NoSec-only firmware (ClientOptions.noSecOnly): refuse NoSec Security writes that carry resources 3, 4, 5. */
  noSecOnly?: boolean;
}

export interface HandledRequest {
  answer: Answer;
  /** Decoded request payload (flattened, masked) or response text, for the trace. */
  requestPayload?: unknown;
  responsePayload?: unknown;
  /** Set on Finish: 'committed' (2.04) or 'rejected' (4.06). */
  finish?: 'committed' | 'rejected';
  issues?: ConsistencyIssue[];
}

function text(code: string, message: string): Answer {
  return { code, payload: Buffer.from(message, 'utf8') };
}

/** The accepted formats for a payload at `path`, TLV's pre-IANA code included. */
export function acceptedFormats(cfg: HandlerConfig, path: LwM2mPath): number[] {
  const list = [...cfg.formats];
  if (list.includes(ContentFormat.TLV)) list.push(ContentFormat.TLV_LEGACY);
  if (cfg.version !== '1.0' && (path.level === 'resource' || path.level === 'resourceInstance')) {
    list.push(...SINGLE_VALUE_FORMATS);
  }
  return list.filter((cf) => !cfg.faults.rejectsFormat(cf));
}

export class BootstrapTransaction {
  readonly staged: ObjectStore;
  operations = 0;

  constructor(
    base: ObjectStore,
    private readonly cfg: HandlerConfig,
  ) {
    this.staged = base.clone();
  }

  handle(req: IncomingRequest): HandledRequest {
    this.operations++;
    const isBs = req.path.length === 1 && req.path[0] === 'bs';
    if (req.method === 'POST' && isBs) return this.finish();
    let path: LwM2mPath;
    try {
      path = LwM2mPath.parse(req.path.join('/'));
    } catch (err) {
      return { answer: text('4.00', (err as Error).message) };
    }
    try {
      switch (req.method) {
        case 'DELETE':
          this.staged.bootstrapDelete(path);
          return { answer: { code: '2.02' } };
        case 'PUT':
          return this.write(path, req);
        case 'GET':
          return this.get(path, req);
        default:
          return { answer: text('4.05', `${req.method} is not a Bootstrap-Interface operation`) };
      }
    } catch (err) {
      if (err instanceof BootstrapRefusedError) return { answer: text(err.coapCode, err.message) };
      return { answer: text('4.00', (err as Error).message) };
    }
  }

  private write(path: LwM2mPath, req: IncomingRequest): HandledRequest {
    if (req.contentFormat === undefined) return { answer: text('4.00', 'Bootstrap-Write without Content-Format') };
    if (!acceptedFormats(this.cfg, path).includes(req.contentFormat)) {
      return { answer: text('4.15', `content format ${req.contentFormat} not supported`) };
    }
    const cf = req.contentFormat === ContentFormat.TLV_LEGACY ? ContentFormat.TLV : req.contentFormat;
    let node: LwM2mNode;
    try {
      node = this.cfg.codec.decode(cf, path, req.payload, this.staged.model);
    } catch (err) {
      return { answer: text('4.00', (err as Error).message) };
    }
    const requestPayload = flattenNode(path, node);
    if (this.cfg.noSecOnly) {
      const refused = this.noSecKeysIn(path, node);
      if (refused) return { answer: text('4.00', refused), requestPayload, responsePayload: refused };
    }
    this.staged.bootstrapWrite(path, node);
    return { answer: { code: '2.04' }, requestPayload };
  }

  /**
   * NoSec-only firmware has no storage for the Security object's resources 3 Public Key or Identity,
   * 4 Server Public Key and 5 Secret Key (OMA-TS-LightweightM2M_Core, Appendix E.1): the reason it refuses
   * a NoSec Security Write that carries them, or undefined when the write is fine.
   */
  private noSecKeysIn(path: LwM2mPath, node: LwM2mNode): string | undefined {
    if (path.objectId !== 0) return undefined;
    const instances: ObjectInstanceNode[] =
      node.kind === 'object' ? [...node.instances.values()] : node.kind === 'instance' ? [node] : [];
    for (const inst of instances) {
      // The mode written with the instance, else the one it already has.
      const mode = numberOf(inst.resources.get(2)) ?? numberOf(this.staged.instance(0, inst.id)?.resources.get(2));
      const nosec = mode === 3;
      const keys = [3, 4, 5].filter((r) => inst.resources.has(r));
      if (nosec && keys.length) {
        return `NoSec-only firmware: Security /0/${inst.id} in NoSec mode must not carry resource${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
    }
    if (path.level === 'resource' && [3, 4, 5].includes(path.resourceId as number)) {
      if (numberOf(this.staged.instance(0, path.instanceId as number)?.resources.get(2)) === 3) {
        return `NoSec-only firmware: Security ${path.toString()} is not writable in NoSec mode`;
      }
    }
    return undefined;
  }

  private get(path: LwM2mPath, req: IncomingRequest): HandledRequest {
    const discover = req.accept === ContentFormat.LINK || (req.accept === undefined && path.isRoot());
    if (discover) {
      if (path.level !== 'root' && path.level !== 'object') {
        return { answer: text('4.00', 'Bootstrap-Discover targets / or /O') };
      }
      const oid = path.objectId;
      if (oid !== undefined && !this.staged.isSupported(oid)) return { answer: text('4.04', `object ${oid} not supported`) };
      const links = bootstrapDiscoverLinks(this.staged, this.cfg.version, oid);
      return { answer: { code: '2.05', contentFormat: ContentFormat.LINK, payload: Buffer.from(links) }, responsePayload: links };
    }
    // Bootstrap-Read (1.1+): /1, /1/I, /2, /2/I only.
    const readable =
      this.cfg.version !== '1.0' &&
      (path.objectId === 1 || path.objectId === 2) &&
      (path.level === 'object' || path.level === 'instance');
    if (!readable) return { answer: text('4.05', `Bootstrap-Read not allowed on ${path.toString()}`) };
    const accept = req.accept ?? this.cfg.formats[0];
    if (!this.cfg.formats.includes(accept) || this.cfg.faults.rejectsFormat(accept)) {
      return { answer: text('4.06', `cannot answer in content format ${accept}`) };
    }
    const node = this.staged.read(path);
    if (!node) return { answer: text('4.04', `${path.toString()} not found`) };
    const payload = this.cfg.codec.encode(accept, path, node, this.staged.model);
    return { answer: { code: '2.05', contentFormat: accept, payload }, responsePayload: flattenNode(path, node) };
  }

  private finish(): HandledRequest {
    if (this.cfg.faults.opts.rejectFinish) {
      return { answer: text('4.06', 'Bootstrap-Finish rejected (fault injection)'), finish: 'rejected' };
    }
    const issues = checkConsistency(this.staged, this.cfg.consistency);
    if (issues.length) {
      const diag = formatIssues(issues);
      return { answer: text('4.06', diag), finish: 'rejected', issues, responsePayload: diag };
    }
    return { answer: { code: '2.04' }, finish: 'committed' };
  }
}

/**
 * Applies a Bootstrap-Pack (1.2) to a copy of `base`: for every object in the pack, its instances are
 * deleted (Bootstrap-Delete rules: the BS account and /3/0 stay), then the pack is written. Returns the
 * staged store and the consistency issues (empty = good to commit).
 */
export function applyPack(
  base: ObjectStore,
  pack: LwM2mNode,
  consistency?: ConsistencyOptions,
): { staged: ObjectStore; issues: ConsistencyIssue[] } {
  const staged = base.clone();
  if (pack.kind !== 'root') {
    throw new BootstrapRefusedError('4.00', `Bootstrap-Pack must be rooted at /, got ${pack.kind}`);
  }
  for (const obj of pack.objects.values()) staged.bootstrapDelete(new LwM2mPath(obj.id));
  for (const obj of pack.objects.values()) staged.bootstrapWrite(new LwM2mPath(obj.id), obj);
  return { staged, issues: checkConsistency(staged, consistency) };
}

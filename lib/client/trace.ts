/**
 * The trace: every CoAP message in and out of a simulated device as a structured event, with decoded
 * payloads flattened to `{ "/0/1/0": "coaps://..." }` and secrets masked (Security /0/x/5 secret key,
 * /0/x/8 SMS keys, OSCORE /21/x/0 master secret, APN /11/x/6 secret): a trace can go to a debug sidebar,
 * a log or a training screen without leaking keys.
 */
import type { LwM2mNode, ResourceValue } from '../model/types';
import type { LwM2mPath } from '../model/path';

export type Direction = 'in' | 'out';

export interface TraceEvent {
  /** ms since epoch */
  time: number;
  endpoint: string;
  direction: Direction;
  /** Who is on the other side: 'bs', 'server:<ssid>' or 'peer'. */
  peer: string;
  address: string;
  port: number;
  kind: 'request' | 'response';
  /** Request method (GET, POST, PUT, DELETE) for requests; the request's method for responses too. */
  method?: string;
  /** Response code, e.g. '2.04'. */
  code?: string;
  path: string;
  query?: string;
  contentFormat?: number;
  accept?: number;
  size: number;
  /** Decoded payload (flattened and masked), link-format text, or diagnostic text. */
  payload?: unknown;
  /** Bootstrap attempt this message belongs to, if any. */
  bootstrapId?: number;
  note?: string;
}

const SECRET_RESOURCES: Record<number, Set<number>> = { 0: new Set([5, 8]), 21: new Set([0]), 11: new Set([6]) };

export function isSecret(objectId: number | undefined, resourceId: number | undefined): boolean {
  return objectId !== undefined && resourceId !== undefined && !!SECRET_RESOURCES[objectId]?.has(resourceId);
}

export function maskedValue(v: ResourceValue): string {
  const n = Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v));
  return `*** (${n} bytes)`;
}

function plain(v: ResourceValue): unknown {
  if (Buffer.isBuffer(v)) return 'hex:' + v.toString('hex');
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return `${v.objectId}:${v.instanceId}`;
  return v;
}

/** Flattens `node` found at `path` into `{ "/O/I/R[/RI]": value }`, masking secrets. */
export function flattenNode(path: LwM2mPath, node: LwM2mNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (o: number, i: number, r: number, ri: number | undefined, v: ResourceValue) => {
    out[`/${o}/${i}/${r}` + (ri !== undefined ? `/${ri}` : '')] = isSecret(o, r) ? maskedValue(v) : plain(v);
  };
  const [o, i, r] = path.ids;
  const walkInstance = (oid: number, inst: { id: number; resources: Map<number, import('../model/types').ResourceNode> }) => {
    for (const res of inst.resources.values()) {
      if (res.kind === 'single') put(oid, inst.id, res.id, undefined, res.value);
      else for (const [k, v] of res.instances) put(oid, inst.id, res.id, k, v);
    }
  };
  switch (node.kind) {
    case 'root':
      for (const obj of node.objects.values()) for (const inst of obj.instances.values()) walkInstance(obj.id, inst);
      break;
    case 'object':
      for (const inst of node.instances.values()) walkInstance(node.id, inst);
      break;
    case 'instance':
      if (o !== undefined) walkInstance(o, { id: i ?? node.id, resources: node.resources });
      break;
    case 'single':
    case 'multiple':
      if (o !== undefined && i !== undefined) walkInstance(o, { id: i, resources: new Map([[r ?? node.id, node]]) });
      break;
    case 'resourceInstance':
      if (o !== undefined && i !== undefined && r !== undefined) put(o, i, r, node.id, node.value);
      break;
  }
  return out;
}

/** CoAP code -> reason phrase, for diagrams. */
export const CODE_NAMES: Record<string, string> = {
  '2.01': 'Created',
  '2.02': 'Deleted',
  '2.04': 'Changed',
  '2.05': 'Content',
  '4.00': 'Bad Request',
  '4.01': 'Unauthorized',
  '4.03': 'Forbidden',
  '4.04': 'Not Found',
  '4.05': 'Method Not Allowed',
  '4.06': 'Not Acceptable',
  '4.15': 'Unsupported Content-Format',
  '5.00': 'Internal Server Error',
  '5.01': 'Not Implemented',
};

function mermaidText(s: string): string {
  // Mermaid ends a statement at ';' and starts an entity at '#': write both as entity codes.
  return s.replace(/#/g, '#35;').replace(/;/g, '#59;').replace(/[\r\n]+/g, ' ').slice(0, 160);
}

/**
 * A Mermaid `sequenceDiagram` of one bootstrap: the device, the Bootstrap-Server, and the DM servers it
 * registered with afterwards. `events` are the trace events of that bootstrap (in order).
 */
export function mermaidSequence(endpoint: string, events: TraceEvent[], notes: string[] = []): string {
  const lines = ['sequenceDiagram', `  participant C as ${mermaidText(endpoint)}`, '  participant BS as Bootstrap-Server'];
  const servers = new Set<string>();
  for (const e of events) if (e.peer.startsWith('server')) servers.add(e.peer);
  const alias = (peer: string) => (peer === 'bs' ? 'BS' : peer.startsWith('server') ? 'S' + peer.slice(7) : 'P');
  for (const s of servers) lines.push(`  participant ${alias(s)} as LwM2M Server ${s.slice(7)}`);
  for (const e of events) {
    const other = alias(e.peer);
    const from = e.direction === 'out' ? 'C' : other;
    const to = e.direction === 'out' ? other : 'C';
    let text: string;
    if (e.kind === 'request') {
      text = `${e.method ?? '?'} ${e.path}` + (e.query ? `?${e.query}` : '');
      if (e.contentFormat !== undefined) text += ` [cf ${e.contentFormat}]`;
      if (e.accept !== undefined) text += ` [accept ${e.accept}]`;
    } else {
      text = `${e.code ?? '?'} ${CODE_NAMES[e.code ?? ''] ?? ''}`.trim();
      if (e.code?.startsWith('4') && typeof e.payload === 'string' && e.payload) text += `: ${e.payload}`;
    }
    lines.push(`  ${from}${e.kind === 'request' ? '->>' : '-->>'}${to}: ${mermaidText(text)}`);
    if (e.note) lines.push(`  Note over C: ${mermaidText(e.note)}`);
  }
  for (const n of notes) lines.push(`  Note over C: ${mermaidText(n)}`);
  return lines.join('\n');
}

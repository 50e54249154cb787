/**
 * The few Device-Management requests a simulated device answers from a server it is registered with:
 * Read (never Security or OSCORE), Execute of /1/x/8 (Registration Update Trigger), /1/x/9
 * (Bootstrap-Request Trigger, server-initiated bootstrap of LwM2M 1.1+) and /3/0/4 (Reboot).
 */
import { LwM2mPath } from '../model/path';
import { ContentFormat } from '../codec/formats';
import type { SimulatedClient } from './client';
import type { ServerRegistration } from './registration';
import { HIDDEN_FROM_SERVERS, numberOf } from './store';
import { flattenNode } from './trace';
import type { Answer, IncomingRequest } from './transport';

export interface DmResult {
  answer: Answer;
  responsePayload?: unknown;
  /** Runs after the response went out. */
  after?: () => void;
}

function text(code: string, message: string): Answer {
  return { code, payload: Buffer.from(message, 'utf8') };
}

export function handleDmRequest(client: SimulatedClient, reg: ServerRegistration, req: IncomingRequest): DmResult {
  let path: LwM2mPath;
  try {
    path = LwM2mPath.parse(req.path.join('/'));
  } catch (err) {
    return { answer: text('4.00', (err as Error).message) };
  }
  const [o, i, r] = path.ids;
  if (o !== undefined && HIDDEN_FROM_SERVERS.has(o)) return { answer: text('4.01', 'not accessible to LwM2M Servers') };
  if (req.method === 'POST' && path.level === 'resource') {
    if (o === 1 && r === 9) {
      if (client.version === '1.0') return { answer: text('4.05', 'Bootstrap-Request Trigger is LwM2M 1.1+') };
      const own = numberOf(client.store.instance(1, i as number)?.resources.get(0));
      if (own === undefined) return { answer: text('4.04', `${path.toString()} not found`) };
      return {
        answer: { code: '2.04' },
        after: () => void client.rebootstrap(`Bootstrap-Request Trigger ${path.toString()} from server ${reg.ssid}`),
      };
    }
    if (o === 1 && r === 8) return { answer: { code: '2.04' }, after: () => void reg.update() };
    if (o === 3 && i === 0 && r === 4) return { answer: { code: '2.04' }, after: () => void client.reboot() };
    return { answer: text('4.05', `${path.toString()} is not executable`) };
  }
  if (req.method === 'GET') {
    if (req.accept === ContentFormat.LINK) return { answer: text('4.05', 'Discover not implemented by the simulator') };
    const node = client.store.read(path);
    if (!node || path.isRoot()) return { answer: text('4.04', `${path.toString()} not found`) };
    const cf = req.accept ?? client.options.formats[0];
    if (!client.options.formats.includes(cf)) return { answer: text('4.06', `cannot answer in content format ${cf}`) };
    try {
      const payload = client.codec.encode(cf, path, node, client.options.model);
      return { answer: { code: '2.05', contentFormat: cf, payload }, responsePayload: flattenNode(path, node) };
    } catch (err) {
      return { answer: text('5.00', (err as Error).message) };
    }
  }
  return { answer: text('4.05', `${req.method} ${path.toString()} not supported by the simulator`) };
}

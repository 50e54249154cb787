/** Payload fixtures for the client tests, built with the real codecs from a simple store description. */
import { defaultCodec } from '../../../../lib/client/codec-adapter';
import { storeFromSimple, type SimpleStore } from '../../../../lib/client/serialize';
import { LwM2mPath } from '../../../../lib/model/path';
import { defaultModel } from '../../../../lib/model/registry';
import type { Step } from './mini-bs';

export const codec = defaultCodec();

/** Encodes the node at `path` of the store described by `simple`. */
export function encodeAt(cf: number, path: string, simple: SimpleStore): Buffer {
  const store = storeFromSimple(simple, defaultModel);
  const p = LwM2mPath.parse(path);
  const node = store.read(p);
  if (!node) throw new Error(`fixture has nothing at ${path}`);
  return codec.encode(cf, p, node, defaultModel);
}

export interface AccountFixture {
  secId: number;
  srvId: number;
  ssid: number;
  uri: string;
  lifetime?: number;
  mode?: number;
  identity?: string;
  keyHex?: string;
  binding?: string;
}

export function accountStore(a: AccountFixture): SimpleStore {
  return {
    '0': {
      [a.secId]: {
        '0': a.uri,
        '1': false,
        '2': a.mode ?? 3,
        '3': { opaque: Buffer.from(a.identity ?? '').toString('hex') },
        '4': { opaque: '' },
        '5': { opaque: a.keyHex ?? '' },
        '10': a.ssid,
      },
    },
    '1': { [a.srvId]: { '0': a.ssid, '1': a.lifetime ?? 60, '6': false, '7': a.binding ?? 'U' } },
  };
}

/** The classic wipe-and-provision script: DELETE /, write Security and Server, Finish. */
export function provisionScript(cf: number, a: AccountFixture, extra: Step[] = []): Step[] {
  const s = accountStore(a);
  return [
    { method: 'DELETE', path: '/' },
    { method: 'PUT', path: `/0/${a.secId}`, contentFormat: cf, payload: encodeAt(cf, `/0/${a.secId}`, s) },
    { method: 'PUT', path: `/1/${a.srvId}`, contentFormat: cf, payload: encodeAt(cf, `/1/${a.srvId}`, s) },
    ...extra,
    { method: 'POST', path: '/bs' },
  ];
}

export function waitFor<T>(emitter: NodeJS.EventEmitter, event: string, pred: (v: T) => boolean = () => true, ms = 8000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for '${event}'`));
    }, ms);
    const on = (v: T) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}

/** Short timings for loopback tests. */
export const FAST = {
  minHoldOffMs: 0,
  jitter: 0,
  backoffMaxMs: 200,
  requestTimeoutMs: 1500,
  bootstrapTimeoutMs: 1500,
  registrationRetryMs: 50,
  registrationRetries: 2,
  updateIntervalMs: 60_000,
};

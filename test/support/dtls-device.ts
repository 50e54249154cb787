/**
 * DtlsDevice: a scripted LwM2M device on one node-dtls-client session (an independent DTLS implementation):
 * it sends the Bootstrap-Request (or Bootstrap-Pack-Request) and answers the server's requests with the
 * usual codes (Discover with a 1.1 link-format, 2.02 / 2.04, Finish 2.04). Everything it received is in
 * `received`; `finished` resolves on Bootstrap-Finish.
 */
import { generate, parse, type ParsedPacket } from 'coap-packet';
import { dtls } from 'node-dtls-client';

export const DISCOVER = '</>;lwm2m=1.1,</0/0>,</1>,</3/0>';
export type Cipher = 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CBC_SHA256';

export interface Received {
  method: string;
  path: string;
  contentFormat?: number;
  payload: Buffer;
}

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' };

/** A scripted LwM2M device on one node-dtls-client session: sends the Bootstrap-Request, answers the server. */
export class DtlsDevice {
  readonly received: Received[] = [];
  private mid = Math.floor(Math.random() * 60000);
  private readonly waiting = new Map<string, (p: ParsedPacket) => void>();
  finished!: Promise<void>;
  private finish!: () => void;

  private constructor(private readonly sock: dtls.Socket) {
    this.finished = new Promise((r) => (this.finish = r));
    sock.on('message', (buf: Buffer) => this.onMessage(buf));
  }

  static connect(port: number, identity: string, key: string, cipher: Cipher = 'TLS_PSK_WITH_AES_128_CCM_8', timeout = 3000): Promise<DtlsDevice> {
    return new Promise((resolve, reject) => {
      const sock = dtls.createSocket({
        type: 'udp4', address: '127.0.0.1', port, timeout,
        psk: { [identity]: Buffer.from(key, 'hex') as unknown as string },
        ciphers: [cipher],
      });
      sock.once('connected', () => resolve(new DtlsDevice(sock)));
      sock.once('error', (err: Error) => reject(err));
    });
  }

  private send(p: Parameters<typeof generate>[0]): void {
    this.sock.send(generate(p));
  }

  private onMessage(buf: Buffer): void {
    let p: ParsedPacket;
    try {
      p = parse(buf);
    } catch {
      return;
    }
    const [cls] = p.code.split('.');
    if (cls === '0' && p.code !== '0.00') return this.onRequest(p);
    if (p.code === '0.00') return; // empty ACK: the response follows separately
    if (p.confirmable) this.send({ code: '0.00', ack: true, messageId: p.messageId, token: Buffer.alloc(0) });
    this.waiting.get(p.token.toString('hex'))?.(p);
  }

  private onRequest(p: ParsedPacket): void {
    const method = METHODS[p.code] ?? p.code;
    const segs = p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString());
    const cfOpt = p.options.find((o) => o.name === 'Content-Format');
    const r: Received = { method, path: '/' + segs.join('/'), payload: Buffer.from(p.payload) };
    if (cfOpt) r.contentFormat = cfOpt.value.length === 0 ? 0 : cfOpt.value.readUIntBE(0, cfOpt.value.length);
    this.received.push(r);
    const reply = (code: string, payload?: Buffer, cf?: number) =>
      this.send({
        code, ack: true, messageId: p.messageId, token: p.token, payload,
        options: cf === undefined ? [] : [{ name: 'Content-Format', value: Buffer.from([cf]) }],
      });
    if (method === 'GET') reply('2.05', Buffer.from(DISCOVER), 40);
    else if (method === 'DELETE') reply('2.02');
    else if (method === 'PUT') reply('2.04');
    else if (method === 'POST' && r.path === '/bs') {
      reply('2.04');
      this.finish();
    } else reply('4.04');
  }

  /** POST /bs?ep=… ; resolves with the response code. */
  bootstrapRequest(ep: string, ms = 8000): Promise<{ code: string; payload: string }> {
    return this.request('0.02', 'bs', ep, ms);
  }

  /** GET /bspack?ep=… (LwM2M 1.2); resolves with the response code. */
  packRequest(ep: string, ms = 8000): Promise<{ code: string; payload: string }> {
    return this.request('0.01', 'bspack', ep, ms);
  }

  private request(code: string, target: string, ep: string, ms: number): Promise<{ code: string; payload: string }> {
    const token = Buffer.from([Math.random() * 256, Math.random() * 256, 7, 9].map((x) => x & 0xff));
    this.mid = (this.mid + 1) & 0xffff;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${target}?ep=${ep} within ${ms} ms`)), ms);
      this.waiting.set(token.toString('hex'), (p) => {
        clearTimeout(t);
        resolve({ code: p.code, payload: p.payload.toString() });
      });
      this.send({
        code, confirmable: true, messageId: this.mid, token,
        options: [
          { name: 'Uri-Path', value: Buffer.from(target) },
          { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
        ],
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.sock.close(() => resolve());
      } catch {
        resolve();
      }
      setTimeout(resolve, 200);
    });
  }
}

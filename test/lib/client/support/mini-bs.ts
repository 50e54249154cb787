/**
 * A small hand-made Bootstrap-Server for the client tests (real UDP, node-coap Server + Agent on one
 * socket): answers POST /bs with 2.04, then plays a script of Bootstrap operations against the device and
 * records the answers; answers GET /bspack with a configured pack.
 */
import * as coap from 'coap';
import * as dgram from 'dgram';
import { EventEmitter } from 'events';
import { formatNumber } from '../../../../lib/client/transport';

export interface Step {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  path: string;
  contentFormat?: number;
  accept?: number;
  payload?: Buffer;
}

export interface StepResult {
  step: Step;
  code: string;
  payload: Buffer;
  contentFormat?: number;
}

export interface MiniSession {
  endpoint: string;
  query: string[];
  results: StepResult[];
}

type RawOption = { name: string | number; value: Buffer | string | number };

function opts(packet: { options?: RawOption[] }, name: string): string[] {
  return (packet.options ?? []).filter((o) => o.name === name).map((o) => String(o.value));
}
function uint(packet: { options?: RawOption[] }, name: string): number | undefined {
  const o = (packet.options ?? []).find((x) => x.name === name);
  return o ? formatNumber(o.value) : undefined;
}

export class MiniBootstrapServer extends EventEmitter {
  sock!: dgram.Socket;
  private server!: coap.Server;
  private agent!: coap.Agent;
  requests: { method: string; path: string[]; query: string[]; accept?: number }[] = [];
  /** Answer to POST /bs (default 2.04). */
  bsCode = '2.04';
  /** Answer to GET /bspack: code and optional payload. Default 4.04. */
  pack: { code: string; contentFormat?: number; payload?: Buffer } = { code: '4.04' };

  constructor(public script: (endpoint: string, query: string[]) => Step[]) {
    super();
  }

  get port(): number {
    return this.sock.address().port;
  }

  async listen(): Promise<this> {
    this.sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.server = new coap.Server();
    this.server.listen(this.sock);
    this.agent = new coap.Agent({ socket: this.sock });
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => {
      const packet = req._packet as { options?: RawOption[] };
      const path = opts(packet, 'Uri-Path');
      const query = opts(packet, 'Uri-Query');
      this.requests.push({ method: req.method, path, query, accept: uint(packet, 'Accept') });
      if (req.method === 'POST' && path.join('/') === 'bs') {
        res.code = this.bsCode;
        res.end();
        if (this.bsCode !== '2.04') return;
        const ep = (query.find((q) => q.startsWith('ep=')) ?? '').slice(3);
        setTimeout(() => void this.run(ep, query, req.rsinfo.address, req.rsinfo.port), 5);
        return;
      }
      if (req.method === 'GET' && path.join('/') === 'bspack') {
        res.code = this.pack.code;
        if (this.pack.contentFormat !== undefined) res.setOption('Content-Format', this.pack.contentFormat);
        res.end(this.pack.payload);
        return;
      }
      res.code = '4.04';
      res.end();
    });
    return this;
  }

  send(address: string, port: number, step: Step, timeoutMs = 3000): Promise<StepResult> {
    return new Promise((resolve) => {
      const req = this.agent.request({
        hostname: address,
        port,
        method: step.method,
        pathname: step.path,
        contentFormat: step.contentFormat,
        accept: step.accept,
      });
      const timer = setTimeout(() => {
        this.agent.abort(req);
        resolve({ step, code: 'timeout', payload: Buffer.alloc(0) });
      }, timeoutMs);
      req.on('response', (res: coap.IncomingMessage) => {
        clearTimeout(timer);
        const packet = res._packet as { options?: RawOption[] };
        resolve({ step, code: res.code, payload: res.payload, contentFormat: uint(packet, 'Content-Format') });
      });
      req.on('error', () => undefined);
      req.end(step.payload);
    });
  }

  private async run(endpoint: string, query: string[], address: string, port: number): Promise<void> {
    const results: StepResult[] = [];
    for (const step of this.script(endpoint, query)) {
      const r = await this.send(address, port, step);
      results.push(r);
      if (r.code === 'timeout') break;
    }
    this.emit('session', { endpoint, query, results } satisfies MiniSession);
  }

  nextSession(): Promise<MiniSession> {
    return new Promise((resolve) => this.once('session', resolve));
  }

  async close(): Promise<void> {
    this.server.close();
    this.agent.close();
    await new Promise<void>((r) => this.sock.close(() => r()));
  }
}

/**
 * Parent/child plumbing of the benchmark: every role (servers, load generator, floor) runs in its own
 * process, started with `fork`, and answers small request/response calls over the IPC channel.
 */
import { fork, type ChildProcess } from 'child_process';

export type Handler = (args: any) => unknown;

interface CallMsg {
  id: number;
  type: string;
  args?: unknown;
}
interface ReplyMsg {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** In a child: answers the parent's calls with `handlers`, then tells it `ready` with `info`. */
export function serve(handlers: Record<string, Handler>, info: unknown = {}): void {
  const send = (m: unknown): void => {
    if (process.connected) process.send?.(m);
  };
  process.on('message', (m: CallMsg) => {
    if (!m || typeof m.id !== 'number') return;
    const h = handlers[m.type];
    if (!h) return send({ id: m.id, ok: false, error: `no handler for ${m.type}` });
    Promise.resolve()
      .then(() => h(m.args))
      .then(
        (result) => send({ id: m.id, ok: true, result }),
        (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  // The parent went away: stop, whatever is running.
  process.on('disconnect', () => process.exit(0));
  send({ id: -1, ok: true, result: info });
}

export class Child {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<any>;
  readonly exited: Promise<number | null>;
  /** The last output of the child (stdout and stderr), for error messages; BENCH_VERBOSE=1 echoes it. */
  stderr = '';

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    const keep = (d: Buffer): void => {
      this.stderr = (this.stderr + d.toString()).slice(-20000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d.toString()}`);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${name} exited (${code}) before it was ready:\n${this.stderr.slice(-4000)}`));
      proc.once('exit', onExit);
      proc.on('message', (m: ReplyMsg) => {
        if (m.id === -1) {
          proc.removeListener('exit', onExit);
          resolve(m.result);
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`${name}: ${m.error}`));
      });
    });
    void this.exited.then((code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${code}):\n${this.stderr.slice(-4000)}`));
      this.pending.clear();
    });
  }

  static start(name: string, script: string, opts: { execArgv?: string[]; env?: Record<string, string>; cwd?: string } = {}): Child {
    const proc = fork(script, [], {
      execArgv: opts.execArgv ?? [],
      env: { ...process.env, ...(opts.env ?? {}) },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new Child(name, proc);
  }

  call<T = any>(type: string, args?: unknown, timeoutMs = 600_000): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${type} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, type, args });
    });
  }

  /** Asks the child to quit, and kills it if it has not after `ms`. */
  async stop(ms = 5000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await this.call('quit', undefined, ms).catch(() => undefined);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
  }
}

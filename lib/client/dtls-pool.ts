/**
 * The CoAPs sessions of one device, one per server address. A session is reused only with the same
 * credentials: after a bootstrap that rotated the keys, the device opens a new session (a new handshake)
 * with the new identity and key, as firmware does.
 */
import { createHash } from 'crypto';
import type { FaultState } from './faults';
import { openDtlsEndpoint, type DtlsChannel } from './dtls-endpoint';
import type { Target } from './target';
import type { DeviceEndpoint } from './transport';

export interface DtlsPoolOptions {
  timeoutMs: number;
  faults: FaultState;
  onError: (target: Target, err: Error) => void;
  /** Called for each new session, to serve the server's requests on it. */
  onOpen: (target: Target, endpoint: DeviceEndpoint) => void;
  /** False once the device stopped: a session that opens too late is closed again. */
  running: () => boolean;
}

function credentialDigest(target: Target, pskKeyOverride: Buffer | undefined): string {
  return createHash('sha256')
    .update(target.pskIdentity ?? Buffer.alloc(0))
    .update('\0')
    .update(pskKeyOverride ?? target.pskKey ?? Buffer.alloc(0))
    .digest('hex');
}

export class DtlsPool {
  private readonly sessions = new Map<string, { channel: DtlsChannel; cred: string }>();

  constructor(private readonly opts: DtlsPoolOptions) {}

  /** The session to `target` (opened when missing, or when the credentials changed). */
  async endpoint(target: Target, pskKeyOverride?: Buffer): Promise<DeviceEndpoint> {
    const key = `${target.address}:${target.port}`;
    const cred = credentialDigest(target, pskKeyOverride);
    const existing = this.sessions.get(key);
    if (existing && existing.cred === cred) return existing.channel.endpoint;
    if (existing) {
      this.sessions.delete(key);
      await existing.channel.close();
    }
    const channel = await openDtlsEndpoint(target, {
      timeoutMs: this.opts.timeoutMs,
      faults: this.opts.faults,
      onError: (err) => this.opts.onError(target, err),
      pskKeyOverride,
    });
    if (!this.opts.running()) {
      await channel.close();
      throw new Error('client stopped');
    }
    this.opts.onOpen(target, channel.endpoint);
    this.sessions.set(key, { channel, cred });
    return channel.endpoint;
  }

  /** Closes the session to `target`, if any: the next request to it starts with a new handshake. */
  async forget(target: Target): Promise<void> {
    const key = `${target.address}:${target.port}`;
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    await s.channel.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.channel.close();
  }
}

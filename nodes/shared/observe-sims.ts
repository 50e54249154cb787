/**
 * client-sim nodes in the "LwM2M" sidebar: each registers a snapshot function (its state or its fleet's
 * summary) and passes on the messages of its first output; the trace events of a single device's latest
 * bootstrap (and what followed, up to MAX_TRACE) are kept for its drawn sequence diagram. The trace has its
 * secrets masked by lib/client already (Security /0/x/5 and others); nothing here adds any.
 */

/** Trace events kept per simulated device node. */
export const MAX_TRACE = 300;

export interface SimInfo {
  id: string;
  name: string;
  mode: string;
}

interface TraceEventLike {
  bootstrapId?: number;
  [k: string]: unknown;
}

interface Watched {
  info: SimInfo;
  snapshot: () => Record<string, unknown>;
  trace: TraceEventLike[];
  bootstrapId?: number;
}

export class SimRegistry {
  private readonly sims = new Map<string, Watched>();

  /** A client-sim node started; returns what it calls with each output message, and its detach. */
  attach(info: SimInfo, snapshot: () => Record<string, unknown>): { event(msg: Record<string, unknown>): void; detach(): void } {
    const w: Watched = { info, snapshot, trace: [] };
    this.sims.set(info.id, w);
    return {
      event: (msg) => {
        if (msg.event !== 'trace' || !msg.payload || typeof msg.payload !== 'object') return;
        const ev = msg.payload as TraceEventLike;
        // A new bootstrap starts a new picture.
        if (typeof ev.bootstrapId === 'number' && ev.bootstrapId !== w.bootstrapId) {
          w.bootstrapId = ev.bootstrapId;
          w.trace = [];
        }
        if (w.trace.length < MAX_TRACE) w.trace.push(ev);
      },
      detach: () => {
        if (this.sims.get(info.id) === w) this.sims.delete(info.id);
      },
    };
  }

  list(): { info: SimInfo; snapshot: Record<string, unknown>; traced: number }[] {
    return [...this.sims.values()].map((w) => ({ info: { ...w.info }, snapshot: safeSnapshot(w), traced: w.trace.length }));
  }

  get(id: string): { info: SimInfo; snapshot: Record<string, unknown>; trace: TraceEventLike[] } | undefined {
    const w = this.sims.get(id);
    return w ? { info: { ...w.info }, snapshot: safeSnapshot(w), trace: w.trace.slice() } : undefined;
  }
}

function safeSnapshot(w: Watched): Record<string, unknown> {
  try {
    return w.snapshot();
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

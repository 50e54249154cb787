/**
 * Fault injection for the simulated device. Datagram faults act on the socket (so CoAP retransmissions
 * really happen); protocol faults are read by the bootstrap handler and the client.
 */
export interface FaultOptions {
  /** Share 0..1 of datagrams dropped, each direction. */
  dropRate?: number;
  /** Share 0..1 of datagrams delayed by `delayMs`. */
  delayRate?: number;
  delayMs?: number;
  /** Answer every request from the Bootstrap-Server or a server only after this many ms ("slow device"). */
  responseDelayMs?: number;
  /** Content-Formats the device answers 4.15 to (on top of what its LwM2M version refuses). */
  rejectFormats?: number[];
  /** Answer Bootstrap-Finish with 4.06 whatever the configuration. */
  rejectFinish?: boolean;
  /** Stop answering (drop every datagram) after this many Bootstrap-Server requests in a session. */
  vanishAfter?: number;
  /** Use this PSK instead of the provisioned one towards the Bootstrap-Server (hex). */
  wrongPskKey?: string;
}

export type FaultName = keyof FaultOptions;

/** Live fault state of one device: options plus the "vanished" switch. */
export class FaultState {
  opts: FaultOptions;
  /** True while the device drops everything (set by vanishAfter, cleared at the next bootstrap attempt). */
  vanished = false;
  /** Datagrams dropped / delayed so far. */
  dropped = 0;
  delayed = 0;

  constructor(
    opts: FaultOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.opts = { ...opts };
  }

  set(opts: FaultOptions): void {
    this.opts = { ...opts };
  }

  clear(): void {
    this.opts = {};
    this.vanished = false;
  }

  /** Decides the fate of one datagram: 'drop', a delay in ms, or 0 (send now). */
  datagram(): 'drop' | number {
    const { dropRate = 0, delayRate = 0, delayMs = 0 } = this.opts;
    if (this.vanished || (dropRate > 0 && this.random() < dropRate)) {
      this.dropped++;
      return 'drop';
    }
    if (delayRate > 0 && delayMs > 0 && this.random() < delayRate) {
      this.delayed++;
      return delayMs;
    }
    return 0;
  }

  rejectsFormat(cf: number): boolean {
    return !!this.opts.rejectFormats?.includes(cf);
  }
}

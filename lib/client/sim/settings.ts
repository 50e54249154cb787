/**
 * What a simulator (SimController) runs: one device or a fleet, its bootstrap server, timing, stores and
 * faults, already checked. The client-sim node reads it from its editor fields (nodes/client-sim/settings.ts).
 */
import type { FaultOptions } from '../faults';

export interface SimSettings {
  mode: 'single' | 'fleet';
  /** Endpoint name (single) or pattern with {n} (fleet). */
  endpoint: string;
  count: number;
  first: number;
  concurrency: number;
  bsUri: string;
  /** PSK identity, or a pattern with {n} / {ep}. */
  pskIdentity: string;
  /** CSV or JSON device table (endpoint, pskIdentity, pskKey), absolute path; empty = patterns. */
  deviceFile: string;
  /** One device's factory provisioning file (lib/factory: .senml.cbor, .senml.json, .lwm2m.cbor), absolute path; empty = none. */
  factoryFile: string;
  version: '1.0' | '1.1' | '1.2';
  formats: number[] | undefined;
  /** Firmware without security support: refuses NoSec Security writes that carry resources 3, 4, 5. */
  noSecOnly: boolean;
  autoStart: boolean;
  holdOffMs: number;
  startJitterMs: number;
  requestTimeoutMs: number;
  /** 0 = keep trying. */
  maxAttempts: number;
  /** Directory for the stores, or undefined (kept in memory). */
  storeDir: string | undefined;
  summaryIntervalMs: number;
  faults: FaultOptions & { wrongPsk?: boolean };
}

/**
 * What a config node offers the nodes that use it: the one contract between nodes. Node-RED hands a config
 * node back as a plain Node (RED.nodes.getNode); `configNode` is the only cast, and the config nodes declare
 * that they are these types, so a change on either side fails to compile instead of failing at run time.
 *
 * - DeviceLookupNode: `lwm2m-device-table` (a file, nodes/device-table) and `lwm2m-postgres` (a database,
 *   nodes/postgres). profile-lookup calls lookupFor; the CoAPs listener takes PSKs and raw public keys from
 *   `table`, `deviceSource` or `keySource` (through lib/keys' KeySource seam); factory-config exports `table` and writes generated keys back into its file.
 * - AuditSinkNode: `lwm2m-postgres`, where a listener writes its audit records.
 * - ProfilesNode: `lwm2m-bootstrap-profiles`, read by profile-lookup and factory-config.
 */
import type { Node, NodeAPI } from 'node-red';
import type { AuditSink, DeviceRow, DeviceSource, DeviceTable, KeySource, RequestFacts, StoredProfile } from './lib';

/** A device's row, and the key it was found by (undefined when the request lacks the matched part). */
export interface DeviceLookup {
  key?: string;
  row?: DeviceRow;
}

export interface DeviceLookupNode extends Node {
  /** Why the node cannot be used (bad pattern, no file, no connection string), translated; else undefined. */
  configError?: string;
  /** The device a request is from, by the part of the request the node matches on. Rejects when the store cannot answer. */
  lookupFor(facts: RequestFacts): Promise<DeviceLookup>;
  /** A file table (lwm2m-device-table only), once its file is configured. */
  readonly table?: DeviceTable;
  /**
   * The node's DeviceSource: the database of lwm2m-postgres (too large to hold in memory: the DTLS handshake
   * reads its cache), or the file table of lwm2m-device-table (the same object as `table`).
   */
  readonly deviceSource?: DeviceSource;
  /**
   * Keys that are not device rows (a key service, raw public keys by fingerprint): the CoAPs listener asks
   * it after its own keys, the table and `deviceSource` (lib/keys KeySource). No config node offers one yet.
   */
  readonly keySource?: KeySource;
}

export interface AuditSinkNode extends Node {
  configError?: string;
  /**
   * The audit sink, made on first use. Each caller calls releaseAudit() once its server has closed: the
   * node closes the sink only after every user released it, so late session records still arrive.
   */
  auditSink(): AuditSink | undefined;
  releaseAudit(): void;
}

export interface ProfilesNode extends Node {
  getProfile(name: string): StoredProfile | undefined;
  profileNames(): string[];
  defaultProfile: string;
  /** Secret template values from the credentials (name -> value); never logged. */
  secretValues(): Record<string, string>;
  /** Why (part of) the profiles cannot be used, translated; undefined when every profile is valid. */
  configError?: string;
}

/** The config node with this id as the contract its type implements, or null when there is none (no id, deleted). */
export function configNode<T extends DeviceLookupNode | AuditSinkNode | ProfilesNode | (DeviceLookupNode & AuditSinkNode)>(
  RED: NodeAPI,
  id: string | undefined,
): T | null {
  return id ? ((RED.nodes.getNode(id) as T | null) ?? null) : null;
}

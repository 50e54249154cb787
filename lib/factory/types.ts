/**
 * Factory provisioning: what a manufacturing line writes into a device before its first boot (OMA-TS-
 * LightweightM2M_Core, Bootstrap Modes: Factory Bootstrap). Built from the same device rows and profiles the
 * Bootstrap-Server uses, so the two cannot disagree.
 */
import { Lwm2mError } from '../errors';
import type { ObjectModel, RootNode } from '../model/types';
import type { BootstrapProfile } from '../profile/types';
import type { ValidatedProfile } from '../profile/validated';

/**
 * 'bootstrap': the device gets its Bootstrap-Server account only and bootstraps on first boot (the usual
 * "factory writes the bootstrap account, the Bootstrap-Server does the rest"). 'dm': the device gets the full
 * set of LwM2M Server accounts of its profile (plus the Bootstrap-Server account, so it can be sent back to
 * bootstrap later) and registers without contacting the Bootstrap-Server.
 */
export type FactoryMode = 'bootstrap' | 'dm';

/** One device row: the table's columns, with the ones the export reads named. */
export interface FactoryDevice {
  endpoint: string;
  /** Bootstrap-Server PSK identity (text). Default: the endpoint name. */
  pskIdentity?: string;
  /** Bootstrap-Server PSK, hex. Generated when absent (coaps only). */
  pskKey?: string;
  imei?: string;
  iccid?: string;
  /** Profile name from the row. */
  profile?: string;
  /** Every column, as template values for the profile (factory-to-DM). */
  values?: Record<string, string>;
}

export interface FactoryOptions {
  /** Bootstrap-Server URI written into /0/x/0, e.g. coaps://bs.example.net:5684. */
  bootstrapUri: string;
  mode?: FactoryMode;
  /** The device's profile (factory-to-DM): by name; `profileFor(row.profile ?? defaultProfile)`. */
  profileFor?: (name: string) => BootstrapProfile | undefined;
  defaultProfile?: string;
  /**
   * Length of a generated PSK in bytes, 16..64 (default 16). A profile may set its own with
   * `templates.pskKeyBytes`, which wins for its devices.
   */
  keyBytes?: number;
  /** Client Hold Off Time /0/x/11 of the Bootstrap-Server account, seconds (default 0). */
  holdOffSec?: number;
  /** nRF91: the modem's security tag for the first account (default 1111 bootstrap, 1112 DM). */
  secTag?: number;
  model?: ObjectModel;
  /**
   * Fills the profile's `${name}` placeholders with the row's values (factory-to-DM). Default: applyTemplate.
   * The nodes pass profile lookup's own filling, so a device gets the very accounts a bootstrap would write.
   */
  fillProfile?: (profile: BootstrapProfile, values: Record<string, string>) => ValidatedProfile;
}

/** The account a device starts with: the Bootstrap-Server account, or (factory-to-DM) its first server. */
export interface StartAccount {
  uri: string;
  bootstrap: boolean;
  /** Security Mode /0/x/2: 0 PSK, 3 NoSec. */
  securityMode: number;
  pskIdentity?: string;
  /** Secret: never logged. */
  pskKey?: Buffer;
  shortServerId?: number;
  instanceId: number;
}

export interface FactoryConfig {
  endpoint: string;
  mode: FactoryMode;
  /** Every instance the device starts with (Security, and for 'dm' Server, ACL and other objects). */
  root: RootNode;
  bootstrapAccount: StartAccount;
  /** What the device uses first: the Bootstrap-Server account ('bootstrap') or its first server ('dm'). */
  start: StartAccount;
  /** Values generated for this row (write them back to the device table); secret. */
  generated: { pskIdentity?: string; pskKey?: string };
  profileName?: string;
  secTag: number;
}

/** A row or option the export cannot use. Names the device, never a key. */
export class FactoryError extends Lwm2mError {
  constructor(
    readonly endpoint: string | undefined,
    message: string,
  ) {
    super('FACTORY', endpoint === undefined ? message : `${JSON.stringify(endpoint)}: ${message}`);
  }
}

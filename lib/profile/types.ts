/**
 * The bootstrap profile an operator writes (JSON), as TypeScript types. profile.schema.json is the
 * published, documented form of the same thing; keep the two in step.
 *
 * Before applyTemplate a profile may hold `${name}` placeholders in any string, and a whole-string
 * placeholder where a number or boolean is expected; planBootstrap and buildBootstrapPack need a
 * resolved profile and report any placeholder left as a ProfileError.
 */
import type { ProfileFormatCode, ProfileFormatName } from '../codec/formats';

/** Bytes in JSON: a plain text (its UTF-8 bytes), `{ hex }` or `{ base64 }`. */
export type BytesJson = string | { hex: string } | { base64: string };

/** Security Mode (/0/x/2) by name or by its number. */
export type SecurityModeName = 'psk' | 'rpk' | 'x509' | 'nosec' | 'est';
export type SecurityModeJson = SecurityModeName | 0 | 1 | 2 | 3 | 4;

/** Names of hierarchical content formats accepted by `contentFormat`, besides their numbers (lib/codec/formats.ts). */
export type ContentFormatName = ProfileFormatName;
export type ContentFormatJson = 'auto' | ContentFormatName | ProfileFormatCode;

/** Resource values by resource id ("0", "1", …), in the JSON forms of lib/model/values.ts. */
export type ResourcesJson = Record<string, unknown>;

/** Credentials shared by server accounts and the Bootstrap-Server account. */
export interface AccountCredentials {
  /** Security Mode /0/x/2. */
  securityMode: SecurityModeJson;
  /** PSK mode: the PSK identity (/0/x/3). */
  pskIdentity?: BytesJson;
  /** PSK mode: the pre-shared key (/0/x/5). */
  pskKey?: BytesJson;
  /** RPK/X.509: client public key or certificate, DER (/0/x/3). */
  publicKeyOrIdentity?: BytesJson;
  /** RPK/X.509/EST: server public key, certificate or trust anchor, DER (/0/x/4). */
  serverPublicKey?: BytesJson;
  /** RPK/X.509: client private key, DER PKCS#8 (/0/x/5). */
  secretKey?: BytesJson;
  /** DTLS/TLS ciphersuites the client offers (/0/x/16), IANA codes as integers (49320 = 0xC0A8). */
  ciphersuites?: number[];
  /** Server Name Indication (/0/x/14). */
  sni?: string;
  /** Further Security resources by id. */
  security?: ResourcesJson;
}

/** An LwM2M Server account: one Security instance and one Server instance paired by Short Server ID. */
export interface ServerAccountProfile extends AccountCredentials {
  /** Short Server ID, 1..65534, unique in the profile (/0/x/10 and /1/x/0). */
  shortServerId: number;
  /** LwM2M Server URI (/0/x/0). */
  uri: string;
  /** Registration lifetime in seconds (/1/x/1). Default 300. */
  lifetime?: number;
  /** Binding (/1/x/7). Default "U". */
  binding?: string;
  /** Notification Storing When Disabled or Offline (/1/x/6). Default true. */
  notificationStoring?: boolean;
  /** Default Minimum Period (/1/x/2), seconds. */
  defaultMinPeriod?: number;
  /** Default Maximum Period (/1/x/3), seconds. */
  defaultMaxPeriod?: number;
  /** Disable Timeout (/1/x/5), seconds. */
  disableTimeout?: number;
  /** Pin the Security instance id (otherwise chosen: never the Bootstrap-Server account's). */
  securityInstanceId?: number;
  /** Pin the Server instance id. */
  serverInstanceId?: number;
  /** Further Server resources by id. */
  server?: ResourcesJson;
}

/** A rewrite of the Bootstrap-Server account itself (key rotation, new URI). */
export interface BootstrapAccountProfile extends AccountCredentials {
  /** Bootstrap-Server URI (/0/x/0). */
  uri: string;
  /** Client Hold Off Time (/0/x/11), seconds. */
  clientHoldOffTime?: number;
  /** Bootstrap-Server Account Timeout (/0/x/12), seconds; 0 keeps the account forever. */
  accountTimeout?: number;
}

/** Access rights as a bitmask 0..31 or letters of "RWEDC". */
export type AclRightsJson = number | string;

/** One Access Control (/2) instance. */
export interface AclProfile {
  /** Object the rights apply to (/2/x/0), 1..65534. */
  objectId: number;
  /** Object instance (/2/x/1); 65535 = the object itself (Create rights). */
  objectInstanceId: number;
  /** Rights per Short Server ID ("0" = default for every other server) (/2/x/2). */
  rights: Record<string, AclRightsJson>;
  /** Access Control Owner (/2/x/3); default 65535 = managed by bootstrap only. */
  owner?: number;
  /** Pin the Access Control instance id. */
  instanceId?: number;
}

/** One instance of another object to write. */
export interface ObjectInstanceProfile {
  /** Instance id; chosen when absent (lowest free). */
  instanceId?: number;
  resources: ResourcesJson;
}

export interface BootstrapProfile {
  /** A JSON Schema reference for editors; ignored. */
  $schema?: string;
  name?: string;
  description?: string;
  /** Write format: "auto" (the client's pct, else TLV) or a fixed format. Default "auto". */
  contentFormat?: ContentFormatJson;
  /** Bootstrap-Discover first to find the Bootstrap-Server account and free instance ids. Default true. */
  autoId?: boolean;
  /** Where the device keeps its Bootstrap-Server account, when not discovered. Default 0. */
  bootstrapAccountInstanceId?: number;
  /** Bootstrap-Delete paths, in order. Default ["/0", "/1"], plus "/2" when `acl` is given. */
  delete?: string[];
  /** Send a Bootstrap-Discover of "/" after the writes, for the record. Default false. */
  discover?: boolean;
  /** Bootstrap-Read paths after the writes (/1, /1/I, /2, /2/I; LwM2M 1.1+ clients only). */
  read?: string[];
  servers?: ServerAccountProfile[];
  bootstrapServer?: BootstrapAccountProfile;
  acl?: AclProfile[];
  /** Further objects by object id (not 0, 1 or 2: use servers, bootstrapServer and acl). */
  objects?: Record<string, ObjectInstanceProfile[]>;
  /** Default values for `${name}` placeholders; per-device values override them. */
  templates?: Record<string, string | number | boolean>;
}

/** One problem found in a profile: a JSON pointer into the profile and what to fix, in an operator's words. */
export interface ProfileIssue {
  pointer: string;
  message: string;
}

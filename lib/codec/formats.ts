/**
 * The content-format table: every CoAP Content-Format this package knows, one row each, and every list the
 * library and the nodes use derived from it (the codec table, the profile's names, what a client may send as
 * `pct`, the Bootstrap-Pack formats, the order of the 4.15 fallback, the simulator's defaults, the media types
 * node-coap uses). Codes from OMA-TS-LightweightM2M_Core, Data Formats (Content-Format registry) and
 * RFC 7252 §12.3 (CoAP Content-Formats Registry).
 *
 * Adding a format: a row here, its codec (lib/codec/<name>.ts, listed in CODEC_BY_FORMAT in codec/index.ts,
 * which the compiler asks for when the row has a codec shape), and its test. See ARCHITECTURE.md "Change recipes".
 *
 * This module holds data only (it imports nothing), so the codec modules can take their numbers from it.
 */

/** Which LwM2M enabler version introduced a format. */
export type Lwm2mVersionName = '1.0' | '1.1' | '1.2';

/**
 * What a payload of the format can carry:
 *  - 'tree': a hierarchical format (an object, an instance, a resource; some a whole root);
 *  - 'single': one resource (instance) value;
 *  - 'link': CoRE link-format (Discover answers, registration), not read by the tree codecs;
 *  - 'none': known only so its media type reads back (no LwM2M meaning).
 */
export type FormatShape = 'tree' | 'single' | 'link' | 'none';

export interface FormatInfo {
  /** The IANA Content-Format number. */
  readonly code: number;
  /** Pre-IANA codes still seen in the wild, read as `code` (input only). */
  readonly legacy?: number;
  /** Short name for logs and traces, e.g. 'TLV'. */
  readonly label: string;
  /** The media type (node-coap shows Content-Format and Accept values as these). */
  readonly mediaType: string;
  readonly shape: FormatShape;
  readonly since: Lwm2mVersionName;
  /** The name a bootstrap profile may give `contentFormat` (only formats a profile may fix). */
  readonly profileName?: string;
  /** A client may name it in `pct` (LwM2M 1.1+ Bootstrap-Request). */
  readonly pct?: boolean;
  /** A pct of this format is answered with Writes in the format of that row instead (see writeFormatForPct). */
  readonly pctServedAs?: string;
  /** Rank among the formats a 1.1+ device prefers (1 first): orders the 4.15 fallback, packs and device defaults. */
  readonly preference?: number;
  /** Tried after a Write answered 4.15 (Unsupported Content-Format). */
  readonly writeFallback?: boolean;
  /** A Bootstrap-Pack may be sent in it (it carries a whole root). */
  readonly pack?: boolean;
}

/** The table. Row order: the codecs' order (tree formats first); lists that have an order of their own use `preference`. */
export const FORMATS = {
  TLV: {
    code: 11542, legacy: 1542, label: 'TLV', mediaType: 'application/vnd.oma.lwm2m+tlv', shape: 'tree', since: '1.0',
    profileName: 'tlv', pct: true, preference: 4, writeFallback: true,
  },
  SENML_JSON: {
    code: 110, label: 'SenML JSON', mediaType: 'application/senml+json', shape: 'tree', since: '1.1',
    profileName: 'senml-json', pct: true, preference: 2, writeFallback: true, pack: true,
  },
  SENML_CBOR: {
    code: 112, label: 'SenML CBOR', mediaType: 'application/senml+cbor', shape: 'tree', since: '1.1',
    profileName: 'senml-cbor', pct: true, preference: 1, writeFallback: true, pack: true,
  },
  LWM2M_CBOR: {
    code: 11544, label: 'LwM2M CBOR', mediaType: 'application/vnd.oma.lwm2m+cbor', shape: 'tree', since: '1.2',
    profileName: 'lwm2m-cbor', pct: true, preference: 3, pack: true,
  },
  // pct=11543 comes from a client of LwM2M 1.1 or later (pct does not exist in 1.0), and such a client should read
  // SenML rather than the legacy JSON (OMA-TS-LightweightM2M_Core-V1_1, Data Formats): it is served in SenML JSON.
  LWM2M_JSON: {
    code: 11543, legacy: 1543, label: 'LwM2M JSON', mediaType: 'application/vnd.oma.lwm2m+json', shape: 'tree', since: '1.0',
    profileName: 'lwm2m-json', pct: true, pctServedAs: 'SENML_JSON',
  },
  TEXT: { code: 0, label: 'text', mediaType: 'text/plain', shape: 'single', since: '1.0' },
  OPAQUE: { code: 42, label: 'opaque', mediaType: 'application/octet-stream', shape: 'single', since: '1.0' },
  CBOR: { code: 60, label: 'CBOR', mediaType: 'application/cbor', shape: 'single', since: '1.1' },
  LINK: { code: 40, label: 'link-format', mediaType: 'application/link-format', shape: 'link', since: '1.0' },
  JSON: { code: 50, label: 'JSON', mediaType: 'application/json', shape: 'none', since: '1.0' },
} as const satisfies Record<string, FormatInfo>;

export type FormatKey = keyof typeof FORMATS;
type Rows = typeof FORMATS;

/** Keys of the rows a tree or single-value codec reads and writes: codec/index.ts must give each a codec. */
export type CodecFormatKey = { [K in FormatKey]: Rows[K]['shape'] extends 'tree' | 'single' ? K : never }[FormatKey];
/** The names a profile's `contentFormat` may use. */
export type ProfileFormatName = { [K in FormatKey]: Rows[K] extends { profileName: infer N } ? N : never }[FormatKey];
/** The numbers a profile's `contentFormat` may use. */
export type ProfileFormatCode = { [K in FormatKey]: Rows[K] extends { profileName: string } ? Rows[K]['code'] : never }[FormatKey];

/** Compile-time check that every `pctServedAs` names a row of the table. */
export type PctServedAsKey = CheckKey<{ [K in FormatKey]: Rows[K] extends { pctServedAs: infer S } ? S : never }[FormatKey]>;
type CheckKey<T extends FormatKey> = T;

const ROWS: ReadonlyArray<readonly [FormatKey, FormatInfo]> = Object.entries(FORMATS) as [FormatKey, FormatInfo][];

function codes(keep: (f: FormatInfo) => boolean | undefined, byPreference = false): readonly number[] {
  const rows = ROWS.map(([, f]) => f).filter((f) => keep(f));
  if (byPreference) rows.sort((a, b) => (a.preference ?? 99) - (b.preference ?? 99));
  return Object.freeze(rows.map((f) => f.code));
}

/** Numeric Content-Formats by constant name (ContentFormat.TLV = 11542), the legacy input-only codes included. */
export const ContentFormat: { readonly [K in FormatKey]: Rows[K]['code'] } & {
  readonly TLV_LEGACY: Rows['TLV']['legacy'];
  readonly LWM2M_JSON_LEGACY: Rows['LWM2M_JSON']['legacy'];
} = Object.freeze({
  ...(Object.fromEntries(ROWS.map(([k, f]) => [k, f.code])) as { [K in FormatKey]: Rows[K]['code'] }),
  TLV_LEGACY: FORMATS.TLV.legacy,
  LWM2M_JSON_LEGACY: FORMATS.LWM2M_JSON.legacy,
});
export type ContentFormatCode = number;

/** The row of a Content-Format (a legacy code finds its row), or undefined. */
export function formatInfo(cf: number): FormatInfo | undefined {
  return ROWS.find(([, f]) => f.code === cf || f.legacy === cf)?.[1];
}

/** A legacy code (1542, 1543) read as its IANA code; any other number unchanged. */
export function canonicalFormat(cf: number): number {
  return formatInfo(cf)?.code ?? cf;
}

/** The codes a format is read under: its code first (the one written), then its legacy code. */
export function formatCodes(key: FormatKey): number[] {
  const f: FormatInfo = FORMATS[key];
  return f.legacy === undefined ? [f.code] : [f.code, f.legacy];
}

/** Formats a Write or Read may use (tree and single-value formats), e.g. in an operation message. */
export const WRITE_READ_FORMATS: readonly number[] = codes((f) => f.shape === 'tree' || f.shape === 'single');
/** Hierarchical formats. */
export const TREE_FORMATS: readonly number[] = codes((f) => f.shape === 'tree');
/** Single-value formats (one resource or resource instance). */
export const SINGLE_VALUE_FORMATS: readonly number[] = codes((f) => f.shape === 'single');

/** `contentFormat` names a profile may use, and their numbers. */
export const PROFILE_FORMAT_NAMES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(ROWS.flatMap(([, f]) => (f.profileName ? [[f.profileName, f.code]] : []))),
);

/** Values a client may send as `pct`, legacy codes included. */
export const PCT_FORMATS: readonly number[] = Object.freeze(
  ROWS.flatMap(([, f]) => (f.pct ? (f.legacy === undefined ? [f.code] : [f.code, f.legacy]) : [])),
);

/** Formats tried after a 4.15 (Unsupported Content-Format), in this order (minus those already tried). */
export const WRITE_FORMAT_FALLBACK: readonly number[] = codes((f) => f.writeFallback, true);

/** Content formats a Bootstrap-Pack may be sent in, the default (no Accept) first. */
export const PACK_FORMATS: readonly number[] = codes((f) => f.pack, true);

/**
 * The Write format for a client's pct: the pct when it is a format a client may prefer, the format it is served
 * as (11543 -> 110), else TLV (the format every 1.0 client reads, and OMA's advice when unknown).
 */
export function writeFormatForPct(pct: number | undefined): number {
  const f = pct === undefined ? undefined : formatInfo(pct);
  if (!f?.pct) return FORMATS.TLV.code;
  return f.pctServedAs ? FORMATS[f.pctServedAs as PctServedAsKey].code : f.code;
}

/** What a pct says of the client's version: pct exists since LwM2M 1.1, so at least "1.1"; LwM2M CBOR says "1.2". */
export function versionOfPct(pct: number | undefined): Lwm2mVersionName | undefined {
  if (pct === undefined) return undefined;
  const since = formatInfo(pct)?.since;
  return since === '1.2' ? '1.2' : '1.1';
}

/**
 * The hierarchical formats a device of `version` accepts by default, the one it prefers (its `pct`) first:
 * the pct-capable tree formats of that version or earlier, by preference (1.0: TLV only).
 */
export function deviceDefaultFormats(version: Lwm2mVersionName): number[] {
  return [...codes((f) => f.shape === 'tree' && f.pct && !f.pctServedAs && f.since <= version, true)];
}

/** Hierarchical formats an LwM2M 1.0 device can know. */
export const LWM2M_1_0_TREE_FORMATS: readonly number[] = codes((f) => f.shape === 'tree' && f.since === '1.0');

/** Media type -> Content-Format number (node-coap rewrites option values to media types). */
export const MEDIA_TYPES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(ROWS.map(([, f]) => [f.mediaType, f.code])),
);

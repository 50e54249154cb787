/**
 * The codecs: one table from numeric Content-Format to Codec, and encode/decode through it.
 * Link-format (CF 40) is not a tree format; it has its own functions (parseLinkFormat, encodeLinkFormat,
 * bootstrapDiscoverInfo).
 */
import { UnsupportedFormatError } from '../errors';
import type { LwM2mPath } from '../model/path';
import { defaultModel } from '../model/registry';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { cborSingleCodec } from './cbor-single';
import type { Codec } from './codec';
import { CodecContext } from './context';
import { FORMATS, type CodecFormatKey, type FormatKey } from './formats';
import { lwm2mCborCodec } from './lwm2m-cbor';
import { lwm2mJsonCodec } from './lwm2m-json';
import { opaqueCodec } from './opaque';
import { senmlCborCodec } from './senml-cbor';
import { senmlJsonCodec } from './senml-json';
import { textCodec } from './text';
import { tlvCodec } from './tlv';

export type { Codec } from './codec';
export * from './formats';
export { tlvCodec, TLV_FORMAT } from './tlv';
export { senmlJsonCodec, SENML_JSON_FORMAT } from './senml-json';
export { senmlCborCodec, SENML_CBOR_FORMAT } from './senml-cbor';
export { lwm2mCborCodec, LWM2M_CBOR_FORMAT } from './lwm2m-cbor';
export { lwm2mJsonCodec, LWM2M_JSON_FORMAT } from './lwm2m-json';
export { textCodec, TEXT_FORMAT, plainDecimal } from './text';
export { opaqueCodec, OPAQUE_FORMAT } from './opaque';
export { cborSingleCodec, CBOR_FORMAT } from './cbor-single';
export { parseLinkFormat, encodeLinkFormat, LINK_FORMAT } from './link-format';
export type { Link, ParsedLinkFormat, EncodeLinkOptions } from './link-format';
export { bootstrapDiscoverInfo } from './discover';
export type { DiscoverInfo } from './discover';
export { parseTlv, serializeTlv, TlvKind } from './tlv-bytes';
export type { TlvRecord } from './tlv-bytes';

/**
 * The codec of each tree and single-value format in the content-format table (formats.ts). A row with such a
 * shape and no codec here does not compile.
 */
const CODEC_BY_FORMAT: { readonly [K in CodecFormatKey]: Codec } = {
  TLV: tlvCodec,
  SENML_JSON: senmlJsonCodec,
  SENML_CBOR: senmlCborCodec,
  LWM2M_CBOR: lwm2mCborCodec,
  LWM2M_JSON: lwm2mJsonCodec,
  TEXT: textCodec,
  OPAQUE: opaqueCodec,
  CBOR: cborSingleCodec,
};

/** Every codec, in the table's order. */
export const codecs: readonly Codec[] = Object.freeze(
  (Object.keys(FORMATS) as FormatKey[]).flatMap((k) => (k in CODEC_BY_FORMAT ? [CODEC_BY_FORMAT[k as CodecFormatKey]] : [])),
);

const table = new Map<number, Codec>();
for (const c of codecs) for (const f of c.formats) table.set(f, c);

/** The codec reading Content-Format `cf` (legacy codes 1542/1543 included), or undefined. */
export function getCodec(cf: number): Codec | undefined {
  return table.get(cf);
}

/** Content-Formats the table reads, ascending (the legacy 1542 and 1543 included). */
export function supportedFormats(): number[] {
  return [...table.keys()].sort((a, b) => a - b);
}

function codecFor(cf: number): Codec {
  const c = table.get(cf);
  if (!c) throw new UnsupportedFormatError(cf);
  return c;
}

/** Guards against callers passing something that is no LwM2mPath (a string, say). */
function checkPath(cf: number, path: LwM2mPath): void {
  if (!path || !Array.isArray(path.ids) || typeof path.append !== 'function') {
    new CodecContext(cf, String(path)).fail('path must be an LwM2mPath (use LwM2mPath.parse)');
  }
}

/** Encodes `node` (the node at `path`) in Content-Format `cf`. Throws CodecError / UnsupportedFormatError. */
export function encode(cf: number, path: LwM2mPath, node: LwM2mNode, model: ObjectModel = defaultModel): Buffer {
  const c = codecFor(cf);
  checkPath(cf, path);
  return c.encode(path, node, model);
}

/** Decodes a payload of Content-Format `cf` addressed to `path`; returns the node of that level. */
export function decode(cf: number, path: LwM2mPath, payload: Buffer, model: ObjectModel = defaultModel): LwM2mNode {
  const c = codecFor(cf);
  checkPath(cf, path);
  return c.decode(path, payload, model);
}

/** The client's default PayloadCodec: lib/codec's codecs, by Content-Format. */
import type { Codec } from '../codec/codec';
import { senmlCborCodec } from '../codec/senml-cbor';
import { senmlJsonCodec } from '../codec/senml-json';
import { tlvCodec } from '../codec/tlv';
import { UnsupportedFormatError } from '../errors';
import type { PayloadCodec } from './bootstrap-handler';

export function defaultCodec(): PayloadCodec {
  const table = new Map<number, Codec>();
  for (const c of [tlvCodec, senmlJsonCodec, senmlCborCodec]) for (const f of c.formats) table.set(f, c);
  const get = (cf: number): Codec => {
    const c = table.get(cf);
    if (!c) throw new UnsupportedFormatError(cf);
    return c;
  };
  return {
    encode: (cf, path, node, model) => get(cf).encode(path, node, model),
    decode: (cf, path, payload, model) => get(cf).decode(path, payload, model),
  };
}

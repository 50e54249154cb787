/** The client's default PayloadCodec: lib/codec's Content-Format table (encode / decode). */
import { decode, encode } from '../codec';
import type { PayloadCodec } from './bootstrap-handler';

export function defaultCodec(): PayloadCodec {
  return { encode, decode };
}

/** CBOR (CF 60, LwM2M 1.1+): one CBOR data item for one resource or resource instance. */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';
import { cborDecode, cborEncode, cborValue, describeCbor, looseFromCbor } from './cbor';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { singleNode, singleValueOf, targetType } from './single-value';
import { typedValue } from './value-types';
import { FORMATS, formatCodes } from './formats';

export const CBOR_FORMAT = FORMATS.CBOR.code;

export const cborSingleCodec: Codec = {
  formats: formatCodes('CBOR'),
  name: 'CBOR',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(CBOR_FORMAT, path.toString());
    const { type, value } = singleValueOf(ctx, model, path, node, 'CBOR (60)');
    return cborEncode(ctx, cborValue(type, value));
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(CBOR_FORMAT, path.toString());
    const type = targetType(ctx, model, path, 'CBOR (60)');
    const { value } = cborDecode(ctx, asBuffer(ctx, payload));
    const loose = looseFromCbor(value);
    if (!loose) return ctx.fail(`${describeCbor(value)} is not a resource value`, 0);
    const tv = typedValue(type, loose);
    if ('error' in tv) return ctx.fail(tv.error, 0);
    return singleNode(path, tv.type, tv.value);
  },
};

/** Opaque (CF 42, application/octet-stream): the raw bytes of one Opaque resource or resource instance. */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';
import type { Codec } from './codec';
import { asBuffer, CodecContext } from './context';
import { singleNode, singleValueOf, targetType } from './single-value';
import { FORMATS, formatCodes } from './formats';

export const OPAQUE_FORMAT = FORMATS.OPAQUE.code;

export const opaqueCodec: Codec = {
  formats: formatCodes('OPAQUE'),
  name: 'opaque',

  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer {
    const ctx: CodecContext = new CodecContext(OPAQUE_FORMAT, path.toString());
    const { type, value } = singleValueOf(ctx, model, path, node, 'opaque content');
    if (type !== 'opaque') ctx.fail(`content format 42 carries opaque resources only, this one is ${type}`);
    return Buffer.from(value as Buffer);
  },

  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode {
    const ctx: CodecContext = new CodecContext(OPAQUE_FORMAT, path.toString());
    const type = targetType(ctx, model, path, 'opaque content');
    if (type !== undefined && type !== 'opaque') ctx.fail(`content format 42 carries opaque resources only, this one is ${type}`);
    return singleNode(path, 'opaque', Buffer.from(asBuffer(ctx, payload)));
  },
};

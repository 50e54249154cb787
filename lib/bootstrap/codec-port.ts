/**
 * The few lib/codec functions the bootstrap session uses, in one place: payload encoding for writes and
 * packs, decoding of Bootstrap-Read responses, and the link-format reading of Bootstrap-Discover.
 */
import { encode, decode, parseLinkFormat, bootstrapDiscoverInfo } from '../codec';
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';

/** What a Bootstrap-Discover taught us (the Bootstrap-Server account, server accounts, objects, version). */
export type DiscoverInfo = ReturnType<typeof bootstrapDiscoverInfo>;

export function encodePayload(cf: number, path: LwM2mPath, node: LwM2mNode, model?: ObjectModel): Buffer {
  return encode(cf, path, node, model);
}

export function decodePayload(cf: number, path: LwM2mPath, payload: Buffer, model?: ObjectModel): LwM2mNode {
  return decode(cf, path, payload, model);
}

/** Reads a Bootstrap-Discover payload (CoRE link-format) into DiscoverInfo. */
export function readDiscover(payload: Buffer): DiscoverInfo {
  const parsed = parseLinkFormat(payload.toString('utf8'));
  const info = bootstrapDiscoverInfo(parsed.links);
  if (info.lwm2mVersion === undefined && parsed.lwm2mVersion !== undefined) {
    return { ...info, lwm2mVersion: parsed.lwm2mVersion };
  }
  return info;
}

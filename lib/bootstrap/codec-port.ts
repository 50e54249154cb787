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

/**
 * Discover payloads read recently and what they said. Every device of one type answers Bootstrap-Discover
 * with the same bytes, so a storm reads the same few payloads thousands of times: each is read once, and
 * its DiscoverInfo (deep-frozen) is shared by every session that got the same bytes. Bounded: the slots are
 * reused in turn; a payload that fails to read is not kept (its error comes again each time).
 */
const DISCOVER_MEMO_SIZE = 8;
/** Longer payloads (a device with many objects) are read each time rather than kept. */
const DISCOVER_MEMO_MAX_BYTES = 1024;
const memoBytes: (Buffer | undefined)[] = new Array<Buffer | undefined>(DISCOVER_MEMO_SIZE).fill(undefined);
const memoInfo: (DiscoverInfo | undefined)[] = new Array<DiscoverInfo | undefined>(DISCOVER_MEMO_SIZE).fill(undefined);
let memoNext = 0;

/**
 * Reads a Bootstrap-Discover payload (CoRE link-format) into DiscoverInfo. The result is frozen and may be
 * shared with other sessions whose device sent the same payload: read it, do not change it.
 */
export function readDiscover(payload: Buffer): DiscoverInfo {
  const n = payload.length;
  for (let i = 0; i < DISCOVER_MEMO_SIZE; i++) {
    const b = memoBytes[i];
    if (b !== undefined && b.length === n && b.equals(payload)) return memoInfo[i]!;
  }
  const info = deepFreeze(parseDiscover(payload));
  if (n <= DISCOVER_MEMO_MAX_BYTES) {
    const slot = memoNext;
    memoNext = (memoNext + 1) % DISCOVER_MEMO_SIZE;
    memoBytes[slot] = Buffer.from(payload); // a copy: the datagram's buffer is not ours to keep
    memoInfo[slot] = info;
  }
  return info;
}

function parseDiscover(payload: Buffer): DiscoverInfo {
  const parsed = parseLinkFormat(payload.toString('utf8'));
  const info = bootstrapDiscoverInfo(parsed.links);
  if (info.lwm2mVersion === undefined && parsed.lwm2mVersion !== undefined) {
    return { ...info, lwm2mVersion: parsed.lwm2mVersion };
  }
  return info;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** @internal for tests: forgets the payloads read so far. */
export function clearDiscoverMemo(): void {
  memoBytes.fill(undefined);
  memoInfo.fill(undefined);
  memoNext = 0;
}

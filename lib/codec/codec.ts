/** The one interface every content format implements (see ARCHITECTURE.md "Codecs"). */
import type { LwM2mPath } from '../model/path';
import type { LwM2mNode, ObjectModel } from '../model/types';

export interface Codec {
  /** Content-Format codes this codec reads; the first is the one it writes, e.g. [11542, 1542]. */
  readonly formats: number[];
  /** Short name for logs and traces, e.g. 'TLV'. */
  readonly name: string;
  /** Encodes `node`, which must be the node at `path` (RootNode for /, ObjectNode for /O, ...). */
  encode(path: LwM2mPath, node: LwM2mNode, model: ObjectModel): Buffer;
  /** Decodes a payload addressed to `path` and returns the node of that level. */
  decode(path: LwM2mPath, payload: Buffer, model: ObjectModel): LwM2mNode;
}

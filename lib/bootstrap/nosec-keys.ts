/**
 * NoSec Security instances without their empty key resources.
 *
 * The Security object (OMA-TS-LightweightM2M_Core, Appendix E.1, LwM2M Object: LwM2M Security) lists
 * resources 3 Public Key or Identity, 4 Server Public Key and 5 Secret Key as mandatory, and for Security
 * Mode 3 (NoSec) they carry nothing, so a Bootstrap-Server writes them empty. Firmware built without
 * security support (NoSec only) may have no storage for them and refuse such a Write (4.00, 4.04, 4.05).
 * The runner then sends the same Write once more without them (keylessWrite) and keeps doing so for the
 * session's later NoSec Security writes; firmware that needs them still gets them on the first try.
 */
import type { LwM2mNode, ObjectInstanceNode, ResourceNode } from '../model/types';
import { BootstrapWriteRequest } from './requests';

/** Security resources left out of a NoSec instance by the keyless retry. */
export const NOSEC_KEY_RESOURCES: readonly number[] = Object.freeze([3, 4, 5]);

/** Codes after which a NoSec Security Write is tried again without the key resources (4.15 has its own fallback). */
export const KEYLESS_RETRY_CODES: readonly string[] = Object.freeze(['4.00', '4.04', '4.05']);

const SECURITY = 0;
const MODE = 2;
const NOSEC = 3;

/**
 * The same Write without the empty resources 3, 4, 5 of each NoSec Security instance it carries, or
 * undefined when there is nothing to leave out (not object 0, not NoSec, no empty key resource).
 */
export function keylessWrite(req: BootstrapWriteRequest): BootstrapWriteRequest | undefined {
  if (req.path.objectId !== SECURITY) return undefined;
  const node = stripNode(req.node);
  return node ? new BootstrapWriteRequest(req.path, node, req.contentFormat) : undefined;
}

function stripNode(node: LwM2mNode): LwM2mNode | undefined {
  if (node.kind === 'instance') return stripInstance(node);
  if (node.kind === 'object') {
    let changed = false;
    const instances = new Map<number, ObjectInstanceNode>();
    for (const [id, inst] of node.instances) {
      const s = stripInstance(inst);
      if (s) changed = true;
      instances.set(id, s ?? inst);
    }
    return changed ? { kind: 'object', id: node.id, instances } : undefined;
  }
  return undefined;
}

function stripInstance(inst: ObjectInstanceNode): ObjectInstanceNode | undefined {
  const mode = inst.resources.get(MODE);
  if (!mode || mode.kind !== 'single' || Number(mode.value) !== NOSEC) return undefined;
  const left = NOSEC_KEY_RESOURCES.filter((r) => isEmpty(inst.resources.get(r)));
  if (left.length === 0) return undefined;
  const resources = new Map<number, ResourceNode>();
  for (const [rid, r] of inst.resources) if (!left.includes(rid)) resources.set(rid, r);
  return { kind: 'instance', id: inst.id, resources };
}

function isEmpty(r: ResourceNode | undefined): boolean {
  if (!r || r.kind !== 'single') return false;
  const v = r.value;
  return (Buffer.isBuffer(v) && v.length === 0) || v === '';
}

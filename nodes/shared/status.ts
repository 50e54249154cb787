/**
 * One status vocabulary for every node of the package:
 *   green dot   = listening / done
 *   yellow ring = working
 *   red ring    = failed
 * The caller passes text that is already translated (RED._), never a secret.
 */
import type { Node } from 'node-red';

export type StatusKind = 'listening' | 'done' | 'working' | 'failed';

const LOOK: Record<StatusKind, { fill: 'green' | 'yellow' | 'red'; shape: 'dot' | 'ring' }> = {
  listening: { fill: 'green', shape: 'dot' },
  done: { fill: 'green', shape: 'dot' },
  working: { fill: 'yellow', shape: 'ring' },
  failed: { fill: 'red', shape: 'ring' },
};

export function showStatus(node: Pick<Node, 'status'>, kind: StatusKind, text: string): void {
  node.status({ ...LOOK[kind], text });
}

export function clearStatus(node: Pick<Node, 'status'>): void {
  node.status({});
}

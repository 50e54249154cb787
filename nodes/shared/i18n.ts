import type { NodeAPI } from 'node-red';

export type Translate = (key: string, vars?: Record<string, unknown>) => string;

/** RED._ bound to one node type's catalog: t('status.listening', { port }) -> "listening :5683". */
export function translator(RED: NodeAPI, type: string): Translate {
  return (key, vars) => RED._(`${type}.${key}`, vars as Record<string, string | number> | undefined);
}

/**
 * node-red-node-test-helper's RED._ returns the key. These wrappers give the bootstrap-listener its real English
 * catalog (with Node-RED's __name__ interpolation), so tests read what an operator sees.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ALL_NODES, listenerNode } from './runtime';

const CATALOG = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'locales', 'en-US', 'bootstrap-listener.json'), 'utf8'),
) as Record<string, unknown>;

type Translate = (key: string, vars?: Record<string, unknown>) => string;

function translate(key: string, vars?: Record<string, unknown>): string | undefined {
  let cur: unknown = CATALOG;
  for (const part of key.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  if (typeof cur !== 'string') return undefined;
  return cur.replace(/__(\w+)__/g, (m, k: string) => (vars && k in vars ? String(vars[k] ?? '') : m));
}

export function translatedListener(red: { _: Translate }): void {
  const original = red._;
  red._ = (key, vars) => (key.startsWith('lwm2m-bootstrap-listener.') ? translate(key, vars) ?? key : original(key, vars));
  (listenerNode as (r: unknown) => void)(red);
}

/** ALL_NODES with the listener translated. */
export const TRANSLATED_NODES = [translatedListener, ...ALL_NODES.filter((n) => n !== listenerNode)];

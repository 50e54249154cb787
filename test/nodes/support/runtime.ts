/**
 * Node tests run in the real Node-RED runtime through node-red-node-test-helper, with the compiled nodes
 * of this package (dist/nodes/…), exactly as Node-RED loads them.
 */
import * as path from 'path';

/* eslint-disable @typescript-eslint/no-require-imports */
export interface TestHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  settings(s: Record<string, unknown>): Record<string, unknown>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: unknown[], flow: object[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): RuntimeNode;
  request(): { post(url: string): SuperRequest; get(url: string): SuperRequest };
  log(): { args: unknown[][] };
}
interface SuperRequest {
  send(body: unknown): SuperRequest;
  expect(code: number): Promise<{ body: unknown; text: string }>;
}
interface SpyCall {
  args: unknown[];
  thisValue: unknown;
}
export interface RuntimeNode {
  id: string;
  on(event: string, cb: (...args: any[]) => void): void;
  once(event: string, cb: (...args: any[]) => void): void;
  receive(msg: Record<string, unknown>): void;
  status: { (s: object): void; getCalls?: () => SpyCall[] };
  [k: string]: any;
}

export const helper: TestHelper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

const dist = path.resolve(__dirname, '..', '..', '..', 'nodes');
const load = (name: string): unknown => require(path.join(dist, name, `${name}.js`));

export const listenerNode = load('bootstrap-listener');
export const lookupNode = load('profile-lookup');
export const writeNode = load('object-write');
export const finishNode = load('bootstrap-finish');
export const profilesNode = load('bootstrap-profiles');
export const tableNode = load('device-table');
export const ALL_NODES = [listenerNode, lookupNode, writeNode, finishNode, profilesNode, tableNode];

/** Resolves with the next message a helper node receives (rejects after `ms`). */
export function nextMessage(node: RuntimeNode, ms = 8000): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${node.id} within ${ms} ms`)), ms);
    node.once('input', (msg: Record<string, any>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Resolves when `pred` holds, polling every 20 ms. */
export async function until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Calls of a Node.prototype method the helper spies on (status, warn, error, log, send), made by `node`. */
export function callsOf(node: RuntimeNode, method: string): unknown[][] {
  const spy = node[method] as { getCalls?: () => SpyCall[] };
  const calls = spy.getCalls ? spy.getCalls() : [];
  return calls.filter((c) => c.thisValue === node).map((c) => c.args);
}

/** Every status object a node has shown so far. */
export function statusCalls(node: RuntimeNode): Record<string, unknown>[] {
  return callsOf(node, 'status').map((a) => a[0] as Record<string, unknown>);
}

/** Every error a node reported through done(err) or node.error. */
export function errorCalls(node: RuntimeNode): unknown[][] {
  return callsOf(node, 'error');
}

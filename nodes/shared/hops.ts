/**
 * The cheapest legal path for a message hop between the bootstrap nodes.
 *
 * Node-RED logs a metric event per message a node sends, receives and completes (Node.prototype.metric:
 * an object, a timestamp and one 'log' event per log handler each time), and drops every one of them unless
 * a logger has `metrics: true` (@node-red/util log.metric(), fixed when the runtime starts: handlers are made
 * only by log.init). A bootstrap through the flow makes about a dozen; with metrics off, quietMetrics makes
 * them cost nothing. With metrics on, nothing changes.
 */
import type { Node } from 'node-red';


/** Node-RED's metric() of `node` without the work when the runtime has metrics off. */
export function quietMetrics(node: Node): void {
  const n = node as unknown as { metric?: (eventname?: string, msg?: unknown, metricValue?: unknown) => boolean | void };
  if (typeof n.metric !== 'function') return;
  let enabled: unknown;
  try {
    enabled = n.metric();
  } catch {
    return;
  }
  if (enabled !== false) return;
  n.metric = quiet;
}

/** metric() with metrics off: "off" when asked, nothing to log otherwise. */
function quiet(eventname?: string): boolean | void {
  if (eventname === undefined) return false;
}

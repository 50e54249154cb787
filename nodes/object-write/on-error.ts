/**
 * What object-write does when the device answers one of the profile's operations with an error (or a
 * payload it cannot decode):
 *  - 'end' (default): stop there, end the session at once with REQUEST_FAILED (the device's code and
 *    diagnostic in the outcome detail) and send the message to the error output with outcome and audit.
 *    A device that refused part of its configuration is not bootstrapped; saying so at once beats a
 *    session timeout 90 s later that blames the network.
 *  - 'continue': send the remaining operations as well, then end the session the same way if any failed.
 *  - 'finish': skip the remaining operations and send the message to output 1, so bootstrap-finish sends
 *    Bootstrap-Finish anyway and the device checks its own configuration (OMA-TS-LightweightM2M_Core,
 *    Bootstrap Interface, Bootstrap-Finish: it answers 4.06 with a diagnostic when that is not consistent).
 * Flows saved before these settings existed say 'stop' (now 'end') or 'continue'.
 */
import type { Lwm2mStep } from '../shared/session-ref';

export type OnErrorMode = 'end' | 'continue' | 'finish';

export const ON_ERROR_MODES: readonly OnErrorMode[] = ['end', 'continue', 'finish'];

/** The mode from the node's setting; '' (a flow from before the setting) and 'stop' are 'end'. */
export function onErrorMode(v: unknown): OnErrorMode {
  if (v === 'continue' || v === 'finish') return v;
  return 'end';
}

/** The outcome detail for a failed step: "write /0/1: 4.00 <the device's diagnostic>". */
export function failureDetail(step: Lwm2mStep): string {
  const what = step.code ? step.code : 'no answer';
  // The device's text only as the library escaped it (diagnostic); `error` is ours when nothing came back.
  const text = step.diagnostic ?? (step.code ? undefined : step.error);
  const diag = text ? ` ${text.slice(0, 200)}` : '';
  return `${step.op} ${step.path}: ${what}${diag}`;
}

/**
 * Which part of a Bootstrap-Request identifies the device in the table: the endpoint name, the (D)TLS
 * identity, an IMEI or ICCID found in either, or any part picked by a regular expression with one capture
 * group (e.g. the ICCID in `deviceId-8949…` with `-(\d{19,20})$`).
 */

import type { DeviceKeyKind } from './types';

/** Which part of a request is the key: the same kinds a DeviceSource looks up by. */
export type MatchOn = DeviceKeyKind;

export interface RequestFacts {
  endpoint?: string;
  identity?: { type: string; id: string };
  query?: Record<string, string | undefined>;
}

const IMEI = /(?:^|[^0-9])(\d{15})(?![0-9])/;
const ICCID = /(?:^|[^0-9])(89\d{16,20})(?![0-9])/;

/** The table key for a request, or undefined when the chosen part is absent. */
export function deviceKeyFor(facts: RequestFacts, matchOn: MatchOn, regex?: RegExp): string | undefined {
  let source: string | undefined;
  switch (matchOn) {
    case 'endpoint':
      source = facts.endpoint;
      break;
    case 'identity':
      source = facts.identity?.id;
      break;
    case 'imei':
      source = facts.query?.imei ?? firstMatch(IMEI, facts.endpoint) ?? firstMatch(IMEI, facts.identity?.id);
      break;
    case 'iccid':
      source = facts.query?.iccid ?? firstMatch(ICCID, facts.identity?.id) ?? firstMatch(ICCID, facts.endpoint);
      break;
  }
  if (source === undefined || source === '') return undefined;
  if (!regex) return source;
  const m = regex.exec(source);
  if (!m) return undefined;
  return m[1] ?? m[0];
}

function firstMatch(re: RegExp, s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = re.exec(s);
  return m ? m[1] : undefined;
}

/** Compiles an operator's pattern; throws a SyntaxError with the reason when it is not a valid RegExp. */
export function compileKeyRegex(pattern: string | undefined): RegExp | undefined {
  if (!pattern || !pattern.trim()) return undefined;
  return new RegExp(pattern.trim());
}

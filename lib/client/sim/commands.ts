/**
 * Commands by message: `msg.command` or `msg.payload` as a word, or `msg.payload = {command, ...}`.
 *
 *   start | stop | power-off | reboot | rebootstrap | factory-reset | fault | clear-faults | status
 *
 * `msg.endpoint` (a name or a list) picks devices of a fleet; `msg.faults` (or payload.faults) carries the
 * faults of `fault`, `msg.share` (0..1) the share of a fleet they apply to.
 */
import { Lwm2mError } from '../../errors';
import type { FaultOptions } from '../faults';

export const COMMANDS = ['start', 'stop', 'power-off', 'reboot', 'rebootstrap', 'factory-reset', 'fault', 'clear-faults', 'status'] as const;
export type CommandName = (typeof COMMANDS)[number];

const ALIASES: Record<string, CommandName> = {
  bootstrap: 'rebootstrap',
  're-bootstrap': 'rebootstrap',
  'factory reset': 'factory-reset',
  reset: 'factory-reset',
  faults: 'fault',
  clear: 'clear-faults',
  'power off': 'power-off',
};

export type SimFaults = FaultOptions & { wrongPsk?: boolean };

export interface Command {
  name: CommandName;
  endpoints?: string[];
  faults?: SimFaults;
  share?: number;
}

export class CommandError extends Lwm2mError {
  constructor(
    readonly reason: 'unknown' | 'badFaults' | 'badEndpoint' | 'badShare',
    readonly detail: string,
  ) {
    super('CLIENT_SIM_COMMAND', `${reason}: ${detail}`);
  }
}

const FAULT_KEYS: Record<keyof SimFaults, 'share' | 'ms' | 'formats' | 'bool' | 'count' | 'hex'> = {
  dropRate: 'share',
  delayRate: 'share',
  delayMs: 'ms',
  responseDelayMs: 'ms',
  rejectFormats: 'formats',
  rejectFinish: 'bool',
  vanishAfter: 'count',
  wrongPsk: 'bool',
  wrongPskKey: 'hex',
};

/** Checks a faults object from a message; the result holds only known, valid fields. */
export function checkFaults(f: unknown): SimFaults {
  if (f === undefined || f === null) return {};
  if (typeof f !== 'object' || Array.isArray(f)) throw new CommandError('badFaults', 'msg.faults must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
    const kind = FAULT_KEYS[k as keyof SimFaults];
    const bad = (what: string) => new CommandError('badFaults', `${k} ${what}`);
    switch (kind) {
      case 'share':
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw bad('must be a number from 0 to 1');
        break;
      case 'ms':
      case 'count':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad('must be a whole number >= 0');
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw bad('must be true or false');
        break;
      case 'formats':
        if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0 || x > 65535)) throw bad('must be a list of Content-Format numbers');
        break;
      case 'hex':
        if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(v)) throw bad('must be hex');
        break;
      default:
        throw new CommandError('badFaults', `unknown fault "${k}" (known: ${Object.keys(FAULT_KEYS).join(', ')})`);
    }
    out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out as SimFaults;
}

function endpointsOf(v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.some((e) => typeof e !== 'string' || !e)) throw new CommandError('badEndpoint', 'msg.endpoint must be a name or a list of names');
  return list as string[];
}

export function parseCommand(msg: Record<string, unknown>): Command {
  const p = msg.payload;
  const obj = p && typeof p === 'object' && !Array.isArray(p) && !Buffer.isBuffer(p) ? (p as Record<string, unknown>) : undefined;
  const raw = msg.command ?? obj?.command ?? (typeof p === 'string' ? p : undefined);
  const word = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  const name = (COMMANDS as readonly string[]).includes(word) ? (word as CommandName) : ALIASES[word];
  if (!name) throw new CommandError('unknown', typeof raw === 'string' ? raw : typeof raw === 'undefined' ? typeof p : typeof raw);
  const cmd: Command = { name, endpoints: endpointsOf(msg.endpoint ?? obj?.endpoint) };
  if (name === 'fault') cmd.faults = checkFaults(msg.faults ?? obj?.faults);
  const share = msg.share ?? obj?.share;
  if (share !== undefined) {
    if (typeof share !== 'number' || !(share >= 0 && share <= 1)) throw new CommandError('badShare', 'msg.share must be a number from 0 to 1');
    cmd.share = share;
  }
  return cmd;
}

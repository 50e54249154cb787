/**
 * A fleet's device table: a CSV file (header `endpoint,pskIdentity,pskKey`) or a JSON array of
 * `{endpoint, pskIdentity?, pskKey?}`. Keys live in this file (kept beside the flow, not in it), never in
 * the flow JSON. Errors name the line or entry, never a key.
 */
import { promises as fsp } from 'fs';
import { parseCsv } from '../../devices/csv';
import { Lwm2mError } from '../../errors';
import type { FleetDevice } from '../fleet';

export class DeviceFileError extends Lwm2mError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super('DEVICE_FILE', `${file}: ${reason}`);
  }
}

const HEX = /^([0-9a-fA-F]{2})*$/;

function column(header: string[], names: string[]): number {
  const lower = header.map((h) => h.trim().toLowerCase());
  for (const n of names) {
    const i = lower.indexOf(n.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}

/** Parses the text of a device table; `file` only names it in errors. */
export function parseDeviceTable(text: string, file: string): FleetDevice[] {
  const trimmed = text.trim();
  let rows: FleetDevice[];
  if (trimmed.startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (e) {
      throw new DeviceFileError(file, `not JSON (${(e as Error).message})`);
    }
    rows = (data as unknown[]).map((d, i) => {
      const o = (d ?? {}) as Record<string, unknown>;
      const s = (k: string) => (o[k] === undefined || o[k] === null || o[k] === '' ? undefined : String(o[k]));
      if (!s('endpoint')) throw new DeviceFileError(file, `entry ${i} has no endpoint`);
      return { endpoint: s('endpoint') as string, pskIdentity: s('pskIdentity'), pskKey: s('pskKey') };
    });
  } else {
    let table: string[][];
    try {
      table = parseCsv(text);
    } catch (e) {
      throw new DeviceFileError(file, (e as Error).message);
    }
    if (table.length < 2) throw new DeviceFileError(file, 'needs a header line and at least one device');
    const [header, ...body] = table;
    const ep = column(header, ['endpoint', 'ep']);
    const id = column(header, ['pskIdentity', 'identity']);
    const key = column(header, ['pskKey', 'key']);
    if (ep < 0) throw new DeviceFileError(file, 'no "endpoint" column');
    rows = body.map((r, i) => {
      const get = (c: number) => (c >= 0 && r[c] !== undefined && r[c].trim() !== '' ? r[c].trim() : undefined);
      if (!get(ep)) throw new DeviceFileError(file, `line ${i + 2} has no endpoint`);
      return { endpoint: get(ep) as string, pskIdentity: get(id), pskKey: get(key) };
    });
  }
  rows.forEach((r, i) => {
    if (r.pskKey !== undefined && !HEX.test(r.pskKey)) throw new DeviceFileError(file, `the key of device ${i + 1} (${r.endpoint}) is not hex`);
  });
  if (!rows.length) throw new DeviceFileError(file, 'lists no device');
  return rows;
}

export async function loadDeviceTable(file: string): Promise<FleetDevice[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new DeviceFileError(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  return parseDeviceTable(text, file);
}

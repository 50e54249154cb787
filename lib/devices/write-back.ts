/**
 * Writes values back into a device table file: the factory export generates PSKs (and identities) for rows
 * that had none, and the Bootstrap-Server must know them, so they go into the same file the listener and
 * profile-lookup read. Every other row, column and value is kept; missing columns are added at the end.
 * The file is replaced through a temp file and a rename (a reader sees the old or the new table), keeping
 * its permission bits.
 */
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { parseCsv } from './csv';
import { DeviceTableError } from './file-table';

/** key -> column -> new value. */
export type RowUpdates = Map<string, Record<string, string>>;

function csvField(v: string, sep: string): string {
  return v.includes(sep) || /["\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The CSV text with `updates` applied to the rows whose `keyColumn` matches. */
export function updateCsv(text: string, keyColumn: string, updates: RowUpdates, file = ''): string {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const sep = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const eol = /\r\n/.test(body) ? '\r\n' : '\n';
  const rows = parseCsv(body);
  if (rows.length === 0) throw new DeviceTableError('the table is empty', file);
  const header = rows[0].map((h) => h.trim());
  const keyAt = header.indexOf(keyColumn);
  if (keyAt < 0) throw new DeviceTableError(`no column "${keyColumn}"`, file);
  for (const cols of updates.values()) for (const c of Object.keys(cols)) if (!header.includes(c)) header.push(c);
  const out = [header];
  for (const r of rows.slice(1)) {
    const row = header.map((_h, i) => r[i] ?? '');
    const u = updates.get((r[keyAt] ?? '').trim());
    if (u) for (const [c, v] of Object.entries(u)) row[header.indexOf(c)] = v;
    out.push(row);
  }
  return (text.charCodeAt(0) === 0xfeff ? '\ufeff' : '') + out.map((r) => r.map((f) => csvField(f, sep)).join(sep)).join(eol) + eol;
}

/** The JSON text (an array of rows or an object keyed by device) with `updates` applied. */
export function updateJson(text: string, keyColumn: string, updates: RowUpdates, file = ''): string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DeviceTableError(`not valid JSON: ${(e as Error).message}`, file);
  }
  if (Array.isArray(data)) {
    for (const row of data) {
      if (!row || typeof row !== 'object') continue;
      const u = updates.get(String((row as Record<string, unknown>)[keyColumn] ?? ''));
      if (u) Object.assign(row, u);
    }
  } else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      const u = updates.get(k);
      if (u && v && typeof v === 'object') Object.assign(v, u);
      else if (u) (data as Record<string, unknown>)[k] = { profile: v, ...u };
    }
  } else throw new DeviceTableError('JSON device table must be an array of rows or an object keyed by device', file);
  return JSON.stringify(data, null, 2) + '\n';
}

/** Applies `updates` to the table file in place (CSV or JSON by `format`, 'auto' by extension). */
export async function writeBackRows(file: string, format: 'auto' | 'csv' | 'json', keyColumn: string, updates: RowUpdates): Promise<void> {
  if (updates.size === 0) return;
  const st = await fsp.stat(file);
  const text = await fsp.readFile(file, 'utf8');
  const fmt = format === 'auto' ? (path.extname(file).toLowerCase() === '.json' ? 'json' : 'csv') : format;
  const next = fmt === 'json' ? updateJson(text, keyColumn, updates, file) : updateCsv(text, keyColumn, updates, file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  await fsp.writeFile(tmp, next, { mode: st.mode & 0o777, flag: 'wx' });
  try {
    await fsp.chmod(tmp, st.mode & 0o777);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

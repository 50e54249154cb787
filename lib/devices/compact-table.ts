/**
 * The rows of a device table in little memory, for tables of a million devices: each row is one string (its
 * values joined by NUL, in the table's column order) inside a block string of 65,536 rows, found by an offset
 * in an Int32Array; each looked-up column has an open-addressing hash index of row numbers (an Int32Array,
 * two slots per row). A row becomes a DeviceRow or DeviceRecord only when it is looked up. One row object
 * with a values Record per row, as a Map holds it, costs several hundred bytes a row; this costs the text of
 * the row plus 12 bytes a row per index.
 *
 * The data is plain strings and typed arrays, so a worker thread can build it and hand it over
 * (lib/devices/table-worker.ts): the typed arrays are transferred, the block strings copied once.
 */
import { eachCsvRow, headerWarning, widthWarning, type CsvWarning } from './csv';
import type { DeviceRecord } from './types';

const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;
const SEP = '\u0000';
/** A value the row does not have (a JSON row without that property), as opposed to an empty one. */
const ABSENT = '\u0001';

/** A row keyed by the table's key column. */
export interface DeviceRow {
  key: string;
  /** Profile name from the profile column, if the row names one. */
  profile?: string;
  /** Every column of the row (including key and profile), usable as template values. */
  values: Record<string, string>;
}

/** The columns a file table's rows give a DeviceRecord its endpoint, PSK identity and key, IMEI and ICCID from. */
export interface DeviceColumns {
  endpoint: string;
  identity: string;
  pskKey: string;
  imei: string;
  iccid: string;
}

export const DEFAULT_DEVICE_COLUMNS: DeviceColumns = { endpoint: 'endpoint', identity: 'pskIdentity', pskKey: 'pskKey', imei: 'imei', iccid: 'iccid' };

export interface BuildOptions {
  format: 'csv' | 'json';
  keyColumn: string;
  profileColumn: string;
  /** Columns to index besides the key column (those the table has). */
  indexColumns: string[];
}

/** What a build hands over (also across a worker boundary). */
export interface TableData {
  columns: string[];
  keyColumn: string;
  profileColumn: string;
  blocks: string[];
  /** Start of row r in blocks[r >> 16]. */
  offsets: Int32Array;
  rows: number;
  /** Distinct keys (a later row with the same key replaces an earlier one). */
  count: number;
  /** Column name -> hash slots holding row number + 1 (0 = empty). */
  indexes: Record<string, Int32Array>;
  warnings: CsvWarning[];
}

/** Why a table cannot be built (the file name is added by the caller). */
export class TableBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableBuildError';
  }
}

/** FNV-1a over the UTF-16 code units. */
export function hashKey(s: string, from = 0, to = s.length): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Builds the table from CSV or JSON text. Throws TableBuildError (or CsvError with a line) when it cannot. */
export function buildTable(text: string, o: BuildOptions): TableData {
  const columns: string[] = [];
  const colOf = new Map<string, number>();
  const col = (name: string): number => {
    let c = colOf.get(name);
    if (c === undefined) {
      c = columns.length;
      columns.push(name);
      colOf.set(name, c);
    }
    return c;
  };
  const warnings: CsvWarning[] = [];
  const blocks: string[] = [];
  let parts: string[] = [];
  let offsets = new Int32Array(1024);
  let at = 0;
  let rows = 0;
  let sourceRows = 0;
  const cells: string[] = [];
  const push = (): void => {
    const r = cells.join(SEP);
    if ((rows & (BLOCK - 1)) === 0 && rows > 0) {
      blocks.push(parts.join(''));
      parts = [];
      at = 0;
    }
    if (rows === offsets.length) {
      const grown = new Int32Array(offsets.length * 2);
      grown.set(offsets);
      offsets = grown;
    }
    offsets[rows++] = at;
    at += r.length;
    parts.push(r);
  };
  const clean = (v: string): string => (v.includes(SEP) ? v.replace(/\u0000/g, '\ufffd') : v === ABSENT ? '\ufffd' : v);

  if (o.format === 'json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      // V8's message quotes the start of the text ("-----BEGIN"... is not valid JSON): a key file read as a
      // table by mistake must not put any byte of itself in the log. Only where it broke.
      throw new TableBuildError(`not valid JSON${jsonErrorPlace((e as Error).message)}`);
    }
    let entries: Array<[string | undefined, unknown]>;
    if (Array.isArray(data)) entries = data.map((v) => [undefined, v]);
    else if (data && typeof data === 'object') entries = Object.entries(data as Record<string, unknown>);
    else throw new TableBuildError('JSON device table must be an array of rows or an object keyed by device');
    const keyCol = col(o.keyColumn);
    data = undefined;
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i];
      let rec: Record<string, unknown>;
      if (k === undefined) {
        if (!v || typeof v !== 'object') throw new TableBuildError(`row ${i + 1} is not an object`);
        rec = v as Record<string, unknown>;
      } else {
        // { "<key>": { "profile": "...", ... } }: the object's key is the key column.
        rec = { ...(v && typeof v === 'object' ? (v as Record<string, unknown>) : { [o.profileColumn]: v }), [o.keyColumn]: k };
      }
      sourceRows++;
      cells.length = 0;
      for (const [name, value] of Object.entries(rec)) {
        if (value === undefined || value === null) continue;
        const c = col(name);
        while (cells.length <= c) cells.push(ABSENT);
        cells[c] = clean(typeof value === 'object' ? JSON.stringify(value) : String(value));
      }
      const key = cells[keyCol];
      if (key === undefined || key === ABSENT || key === '') continue; // rows without a key are ignored
      push();
    }
  } else {
    let header: number[] | undefined;
    let width = 0;
    let keyAt = -1;
    eachCsvRow(text, (fields, line) => {
      if (!header) {
        const names = fields.map((h) => h.trim());
        const w = headerWarning(names, line);
        if (w) warnings.push(w);
        header = names.map((n) => (n ? col(n) : -1));
        width = names.length;
        keyAt = colOf.get(o.keyColumn) ?? -1;
        return;
      }
      sourceRows++;
      const w = widthWarning(fields.length, width, line);
      if (w) warnings.push(w);
      cells.length = columns.length;
      cells.fill('');
      for (let i = 0; i < width; i++) {
        const c = header[i];
        if (c >= 0) cells[c] = clean((fields[i] ?? '').trim());
      }
      if (keyAt < 0 || cells[keyAt] === '') return; // rows without a key are ignored (e.g. trailing notes)
      push();
    });
  }
  if (parts.length > 0) blocks.push(parts.join(''));
  parts = [];

  const t: TableData = {
    columns,
    keyColumn: o.keyColumn,
    profileColumn: o.profileColumn,
    blocks,
    offsets: offsets.slice(0, rows),
    rows,
    count: 0,
    indexes: {},
    warnings,
  };
  const view = new CompactTable(t);
  for (const name of new Set([o.keyColumn, ...o.indexColumns])) {
    const c = colOf.get(name);
    if (c === undefined) continue;
    const { slots, distinct } = view.buildIndex(c);
    t.indexes[name] = slots;
    if (name === o.keyColumn) t.count = distinct;
  }
  if (sourceRows > 0 && rows === 0) throw new TableBuildError(`no row has a value in the key column "${o.keyColumn}"`);
  return t;
}

/** Read access to TableData: find rows by an indexed column and turn them into rows and records. */
export class CompactTable {
  private readonly colOf = new Map<string, number>();

  constructor(readonly data: TableData) {
    data.columns.forEach((c, i) => this.colOf.set(c, i));
  }

  static empty(keyColumn: string, profileColumn: string): CompactTable {
    return new CompactTable({ columns: [], keyColumn, profileColumn, blocks: [], offsets: new Int32Array(0), rows: 0, count: 0, indexes: {}, warnings: [] });
  }

  get count(): number {
    return this.data.count;
  }

  has(column: string): boolean {
    return this.data.indexes[column] !== undefined;
  }

  /** The row number whose `column` is `value`, or -1. */
  find(column: string, value: string): number {
    const slots = this.data.indexes[column];
    const c = this.colOf.get(column);
    if (!slots || c === undefined || value === '') return -1;
    const mask = slots.length - 1;
    for (let s = hashKey(value) & mask; ; s = (s + 1) & mask) {
      const r = slots[s];
      if (r === 0) return -1;
      if (this.fieldEquals(r - 1, c, value)) return r - 1;
    }
  }

  /** The row of a key of the key column. */
  byKey(key: string): DeviceRow | undefined {
    const r = this.find(this.data.keyColumn, key);
    return r < 0 ? undefined : this.row(r);
  }

  row(r: number): DeviceRow {
    const values = this.values(r);
    return { key: values[this.data.keyColumn], profile: values[this.data.profileColumn] || undefined, values };
  }

  /** The device record of a row, with its endpoint, identity, key, IMEI and ICCID from `cols`. */
  record(r: number, cols: DeviceColumns): DeviceRecord {
    const values = this.values(r);
    const rec: DeviceRecord = { endpoint: values[cols.endpoint] || values[this.data.keyColumn], values };
    if (values[cols.identity]) rec.identity = values[cols.identity];
    const key = values[cols.pskKey]?.trim();
    if (key && /^(?:[0-9a-fA-F]{2})+$/.test(key)) rec.pskKey = Buffer.from(key, 'hex');
    if (values[cols.imei]) rec.imei = values[cols.imei];
    if (values[cols.iccid]) rec.iccid = values[cols.iccid];
    const profile = values[this.data.profileColumn];
    if (profile) rec.profile = profile;
    return rec;
  }

  /** Every row in file order; of rows with the same key, the one that counts (the last). */
  *rows(): IterableIterator<DeviceRow> {
    const keyCol = this.colOf.get(this.data.keyColumn);
    if (keyCol === undefined) return;
    for (let r = 0; r < this.data.rows; r++) {
      const row = this.row(r);
      if (this.data.count === this.data.rows || this.find(this.data.keyColumn, row.key) === r) yield row;
    }
  }

  values(r: number): Record<string, string> {
    const [text, start, end] = this.span(r);
    const values: Record<string, string> = {};
    let p = start;
    for (let c = 0; p <= end; c++) {
      let q = text.indexOf(SEP, p);
      if (q < 0 || q > end) q = end;
      const v = text.slice(p, q);
      if (v !== ABSENT) values[this.data.columns[c]] = v;
      p = q + 1;
    }
    return values;
  }

  /** Builds the hash index of column `c`: two slots per row, so that a probe rarely passes three. */
  buildIndex(c: number): { slots: Int32Array; distinct: number } {
    let size = 16;
    while (size < this.data.rows * 2) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    let distinct = 0;
    for (let r = 0; r < this.data.rows; r++) {
      const [text, start, end] = this.span(r);
      const [fs, fe] = fieldSpan(text, start, end, c);
      if (fs === fe || (fe - fs === 1 && text.charCodeAt(fs) === 1)) continue; // empty or absent: not findable
      for (let s = hashKey(text, fs, fe) & mask; ; s = (s + 1) & mask) {
        const o = slots[s];
        if (o === 0) {
          slots[s] = r + 1;
          distinct++;
          break;
        }
        if (this.fieldEquals(o - 1, c, text, fs, fe)) {
          slots[s] = r + 1; // the last row with a key wins
          break;
        }
      }
    }
    return { slots, distinct };
  }

  private span(r: number): [string, number, number] {
    const text = this.data.blocks[r >>> BLOCK_BITS];
    const next = r + 1;
    const end = next >= this.data.rows || (next & (BLOCK - 1)) === 0 ? text.length : this.data.offsets[next];
    return [text, this.data.offsets[r], end];
  }

  /** Is field `c` of row `r` equal to `value` (or to value.slice(from, to))? */
  private fieldEquals(r: number, c: number, value: string, from = 0, to = value.length): boolean {
    const [text, start, end] = this.span(r);
    const [fs, fe] = fieldSpan(text, start, end, c);
    if (fe - fs !== to - from) return false;
    for (let i = 0; i < to - from; i++) if (text.charCodeAt(fs + i) !== value.charCodeAt(from + i)) return false;
    return true;
  }
}

/** Start and end of field `c` within text[start, end); an empty span when the row has fewer fields. */
function fieldSpan(text: string, start: number, end: number, c: number): [number, number] {
  let p = start;
  for (let k = 0; k < c; k++) {
    const q = text.indexOf(SEP, p);
    if (q < 0 || q >= end) return [end, end];
    p = q + 1;
  }
  let q = text.indexOf(SEP, p);
  if (q < 0 || q > end) q = end;
  return [p, q];
}

/** " (line L column C)" or " (at position P)" from a JSON.parse message, never the text it quotes. */
export function jsonErrorPlace(message: string): string {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return ` (line ${lc[1]} column ${lc[2]})`;
  const pos = /position (\d+)/.exec(message);
  return pos ? ` (at position ${pos[1]})` : '';
}

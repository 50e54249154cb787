/**
 * A device table: a JSON or CSV file that maps a device key (endpoint, PSK identity, IMEI, ICCID, …) to a
 * profile name plus per-device template values, like a device portal's "target profile" and per-device
 * configuration. Thousands of rows load in milliseconds into a Map.
 *
 * Hot reload: a directory watch (fs.watch on the folder, so editors that replace the file by rename are
 * seen) plus an mtime/size check before a lookup at most once per `checkIntervalMs`, because fs.watch is
 * not reliable on every file system. A reload that fails keeps the previous rows and reports the error.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { csvToRecords, type CsvWarning } from './csv';

export interface DeviceRow {
  key: string;
  /** Profile name from the profile column, if the row names one. */
  profile?: string;
  /** Every column of the row (including key and profile), usable as template values. */
  values: Record<string, string>;
}

export interface DeviceTableOptions {
  file: string;
  /** 'auto' picks by file extension (.csv / .json). */
  format?: 'auto' | 'csv' | 'json';
  keyColumn: string;
  profileColumn?: string;
  checkIntervalMs?: number;
  watch?: boolean;
}

export class DeviceTableError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'DeviceTableError';
  }
}

/**
 * Events: 'loaded' ({ rows, file, warnings }), 'error' is NOT used (an EventEmitter 'error' without listener would
 * throw); failures are emitted as 'loadFailed' (DeviceTableError).
 */
export class DeviceTable extends EventEmitter {
  private rows = new Map<string, DeviceRow>();
  private mtimeMs = -1;
  private size = -1;
  private lastCheck = 0;
  private watcher: fs.FSWatcher | undefined;
  private reloading: Promise<void> | undefined;
  private closed = false;
  lastError: DeviceTableError | undefined;
  /** Rows of the last load that look wrong (line numbers, no cell content). */
  lastWarnings: CsvWarning[] = [];
  loadedAt: Date | undefined;

  constructor(readonly opts: DeviceTableOptions) {
    super();
  }

  get count(): number {
    return this.rows.size;
  }

  /** Every row as loaded now, for callers that index the table by other columns (the CoAPs listener's PSKs). */
  allRows(): IterableIterator<DeviceRow> {
    return this.rows.values();
  }

  /** Loads the file now and starts watching it (unless watch: false). */
  async start(): Promise<void> {
    await this.reload();
    if (this.opts.watch !== false) this.watch();
  }

  /** Looks a key up, reloading first if the file changed. */
  async lookup(key: string): Promise<DeviceRow | undefined> {
    await this.checkFresh();
    return this.rows.get(key);
  }

  /** Re-reads the file if its mtime or size changed (at most once per checkIntervalMs unless forced). */
  async checkFresh(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastCheck < (this.opts.checkIntervalMs ?? 1000)) {
      if (this.reloading) await this.reloading;
      return;
    }
    this.lastCheck = now;
    try {
      const st = await fs.promises.stat(this.opts.file);
      if (st.mtimeMs !== this.mtimeMs || st.size !== this.size) await this.reload();
    } catch (e) {
      this.fail(e);
    }
  }

  reload(): Promise<void> {
    if (this.reloading) return this.reloading;
    this.reloading = this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.removeAllListeners();
  }

  private async doReload(): Promise<void> {
    const file = this.opts.file;
    try {
      const st = await fs.promises.stat(file);
      const text = await fs.promises.readFile(file, 'utf8');
      const warnings: CsvWarning[] = [];
      const rows = parseRows(text, this.format(), this.opts.keyColumn, this.opts.profileColumn ?? 'profile', file, warnings);
      if (this.closed) return;
      this.rows = rows;
      this.mtimeMs = st.mtimeMs;
      this.size = st.size;
      this.lastError = undefined;
      this.loadedAt = new Date();
      this.lastWarnings = warnings;
      this.emit('loaded', { rows: rows.size, file, warnings });
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    const err =
      e instanceof DeviceTableError
        ? e
        : new DeviceTableError(e instanceof Error ? e.message : String(e), this.opts.file);
    const repeat = this.lastError?.message === err.message;
    this.lastError = err;
    if (!repeat && !this.closed) this.emit('loadFailed', err);
  }

  private format(): 'csv' | 'json' {
    const f = this.opts.format ?? 'auto';
    if (f !== 'auto') return f;
    return path.extname(this.opts.file).toLowerCase() === '.json' ? 'json' : 'csv';
  }

  private watch(): void {
    try {
      const dir = path.dirname(this.opts.file);
      const base = path.basename(this.opts.file);
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === base) {
          this.lastCheck = 0;
          void this.checkFresh(true);
        }
      });
      this.watcher.on('error', () => {
        // The folder went away; the mtime check before each lookup still notices a new file.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No watch support here: the mtime check before each lookup is enough.
    }
  }
}

/** Parses table text into rows keyed by `keyColumn`. Duplicate keys: the last row wins. */
export function parseRows(
  text: string,
  format: 'csv' | 'json',
  keyColumn: string,
  profileColumn: string,
  file = '',
  warnings: CsvWarning[] = [],
): Map<string, DeviceRow> {
  let records: Record<string, unknown>[];
  if (format === 'json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      // V8's message quotes the start of the text ("-----BEGIN"... is not valid JSON): a key file read as a
      // table by mistake must not put any byte of itself in the log. Only where it broke.
      throw new DeviceTableError(`not valid JSON${jsonErrorPlace((e as Error).message)}`, file);
    }
    if (Array.isArray(data)) {
      records = data as Record<string, unknown>[];
    } else if (data && typeof data === 'object') {
      // { "<key>": { "profile": "...", ... } }
      records = Object.entries(data as Record<string, unknown>).map(([k, v]) => ({
        ...(v && typeof v === 'object' ? (v as Record<string, unknown>) : { [profileColumn]: v }),
        [keyColumn]: k,
      }));
    } else {
      throw new DeviceTableError('JSON device table must be an array of rows or an object keyed by device', file);
    }
  } else {
    records = csvToRecords(text, warnings);
  }
  const rows = new Map<string, DeviceRow>();
  records.forEach((rec, i) => {
    if (!rec || typeof rec !== 'object') throw new DeviceTableError(`row ${i + 1} is not an object`, file);
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (v !== undefined && v !== null) values[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    const key = values[keyColumn];
    if (key === undefined || key === '') return; // rows without a key are ignored (e.g. trailing notes)
    const profile = values[profileColumn] || undefined;
    rows.set(key, { key, profile, values });
  });
  if (records.length > 0 && rows.size === 0) {
    throw new DeviceTableError(`no row has a value in the key column "${keyColumn}"`, file);
  }
  return rows;
}

/** " (line L column C)" or " (at position P)" from a JSON.parse message, never the text it quotes. */
function jsonErrorPlace(message: string): string {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return ` (line ${lc[1]} column ${lc[2]})`;
  const pos = /position (\d+)/.exec(message);
  return pos ? ` (at position ${pos[1]})` : '';
}

/** Relative paths: the Node-RED user directory first, then this package (for the shipped examples). */
export function resolveTableFile(file: string, userDir: string | undefined): string {
  if (path.isAbsolute(file)) return file;
  const candidates = [userDir, path.resolve(__dirname, '..', '..', '..'), process.cwd()].filter(
    (d): d is string => typeof d === 'string',
  );
  for (const dir of candidates) {
    const p = path.resolve(dir, file);
    if (fs.existsSync(p)) return p;
  }
  return path.resolve(candidates[0], file);
}

/**
 * A device table: a JSON or CSV file that maps a device key (endpoint, PSK identity, IMEI, ICCID, …) to a
 * profile name plus per-device template values, like a device portal's "target profile" and per-device
 * configuration. It is a DeviceSource (lib/devices/types.ts), so profile lookup and the CoAPs listener take
 * it as they take a MemoryDeviceSource or a PostgresDeviceSource. The rows are held compactly
 * (lib/devices/compact-table.ts): a million rows of ~60 characters take ~100 MB, not the ~650 MB of one
 * object per row.
 *
 * Hot reload: a directory watch (fs.watch on the folder, so editors that replace the file by rename are
 * seen) plus an mtime/size check before a lookup at most once per `checkIntervalMs`, because fs.watch is
 * not reliable on every file system. A reload that fails keeps the previous rows and reports the error. A
 * large file (`workerThresholdBytes`, 1 MiB by default, some 10,000 rows) is read and parsed in a worker thread; until the new
 * rows are ready every lookup is answered from the old ones, and the swap is one assignment.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { type CsvWarning } from './csv';
import { buildTable, CompactTable, DEFAULT_DEVICE_COLUMNS, TableBuildError, type BuildOptions, type DeviceColumns, type DeviceRow, type TableData } from './compact-table';
import type { DeviceChange, DeviceKeyKind, DeviceRecord, DeviceSource, DeviceSourceStats } from './types';

export interface DeviceTableOptions {
  file: string;
  /** 'auto' picks by file extension (.csv / .json). */
  format?: 'auto' | 'csv' | 'json';
  keyColumn: string;
  profileColumn?: string;
  checkIntervalMs?: number;
  watch?: boolean;
  /**
   * The columns a DeviceRecord takes its endpoint, PSK identity, key (hex), IMEI and ICCID from (lookups by
   * kind). Defaults: endpoint, pskIdentity, pskKey, imei, iccid; without an endpoint column the key column is
   * the endpoint.
   */
  columns?: Partial<DeviceColumns>;
  /** Files at least this large are parsed in a worker thread (default 1 MiB; 0 = always). */
  workerThresholdBytes?: number;
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

const WORKER_THRESHOLD = 1024 * 1024;

/**
 * Events: 'loaded' ({ rows, file, warnings }), 'error' is NOT used (an EventEmitter 'error' without listener would
 * throw); failures are emitted as 'loadFailed' (DeviceTableError). DeviceSource listeners (onChange) hear
 * `{ all: true }` after every load.
 */
export class DeviceTable extends EventEmitter implements DeviceSource {
  private table: CompactTable;
  private readonly cols: DeviceColumns;
  private readonly changes = new EventEmitter();
  private mtimeMs = -1;
  private size = -1;
  private lastCheck = 0;
  private watcher: fs.FSWatcher | undefined;
  private worker: Worker | undefined;
  private reloading: Promise<void> | undefined;
  /** The reload under way parses in a worker: lookups do not wait for it. */
  private reloadingInBackground = false;
  private closed = false;
  private counters = { hits: 0, misses: 0, errors: 0 };
  lastError: DeviceTableError | undefined;
  /** Rows of the last load that look wrong (line numbers, no cell content). */
  lastWarnings: CsvWarning[] = [];
  loadedAt: Date | undefined;
  /** Loads that succeeded. */
  loads = 0;

  constructor(readonly opts: DeviceTableOptions) {
    super();
    this.changes.setMaxListeners(0);
    this.cols = { ...DEFAULT_DEVICE_COLUMNS, ...(opts.columns ?? {}) };
    this.table = CompactTable.empty(opts.keyColumn, this.profileColumn());
  }

  /** The columns its records take endpoint, identity, key, IMEI and ICCID from. */
  get columns(): Readonly<DeviceColumns> {
    return this.cols;
  }

  /** Distinct keys loaded now. */
  get count(): number {
    return this.table.count;
  }

  /** Every row as loaded now, for callers that index the table by other columns (the CoAPs listener's PSKs). */
  allRows(): IterableIterator<DeviceRow> {
    return this.table.rows();
  }

  /** Loads the file now and starts watching it (unless watch: false). */
  async start(): Promise<void> {
    await this.reload();
    if (this.opts.watch !== false) this.watch();
  }

  /** Looks a key of the key column up, reloading first if the file changed (a small file; a large one reloads behind). */
  async lookupKey(key: string): Promise<DeviceRow | undefined> {
    await this.fresh();
    const row = this.table.byKey(key);
    this.count1(row);
    return row;
  }

  /** DeviceSource: the device whose endpoint, identity, IMEI or ICCID column is `key`. */
  async lookup(kind: DeviceKeyKind, key: string): Promise<DeviceRecord | undefined> {
    await this.fresh();
    if (!this.loadedAt && this.lastError) {
      this.counters.errors++;
      throw this.lastError;
    }
    const rec = this.recordOf(kind, key);
    this.count1(rec);
    return rec;
  }

  /** DeviceSource: every row is in memory once loaded; null when no row has this identity. */
  cachedByIdentity(identity: string): DeviceRecord | null | undefined {
    if (!this.loadedAt) return undefined;
    return this.recordOf('identity', identity) ?? null;
  }

  /** DeviceSource: nothing to fetch; an unknown identity makes the table check its file (at most once per interval). */
  prefetchIdentity(): void {
    void this.checkFresh().catch(() => undefined);
  }

  onChange(listener: (change: DeviceChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.removeListener('change', listener);
  }

  stats(): DeviceSourceStats {
    return { cached: this.count, hits: this.counters.hits, misses: this.counters.misses, loads: 0, errors: this.counters.errors };
  }

  /** Re-reads the file if its mtime or size changed (at most once per checkIntervalMs unless forced). */
  async checkFresh(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastCheck < (this.opts.checkIntervalMs ?? 1000)) {
      if (this.reloading && (!this.reloadingInBackground || !this.loadedAt)) await this.reloading;
      return;
    }
    this.lastCheck = now;
    try {
      const st = await fs.promises.stat(this.opts.file);
      if (st.mtimeMs !== this.mtimeMs || st.size !== this.size) {
        const p = this.reload();
        // A large file reloads behind the lookups: they keep the old rows until the new ones are ready.
        if (!this.inWorker(st.size) || !this.loadedAt) await p;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Reads the file again; resolves once the new rows are in use (or the reload failed). */
  reload(): Promise<void> {
    if (this.reloading) return this.reloading;
    // Until its stat says how large the file is now, a reload is as large as the last load.
    this.reloadingInBackground = this.loadedAt !== undefined && this.inWorker(this.size);
    this.reloading = this.doReload().finally(() => {
      this.reloading = undefined;
      this.reloadingInBackground = false;
    });
    return this.reloading;
  }

  close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    void this.worker?.terminate();
    this.worker = undefined;
    this.removeAllListeners();
    this.changes.removeAllListeners();
    return Promise.resolve();
  }

  private async fresh(): Promise<void> {
    await this.checkFresh();
  }

  private inWorker(size: number): boolean {
    return size >= (this.opts.workerThresholdBytes ?? WORKER_THRESHOLD);
  }

  private count1(found: unknown): void {
    if (found) this.counters.hits++;
    else this.counters.misses++;
  }

  private recordOf(kind: DeviceKeyKind, key: string): DeviceRecord | undefined {
    let column = this.cols[kind];
    if (kind === 'endpoint' && !this.table.has(column)) column = this.opts.keyColumn;
    const r = this.table.find(column, key);
    return r < 0 ? undefined : this.table.record(r, this.cols);
  }

  private profileColumn(): string {
    return this.opts.profileColumn ?? 'profile';
  }

  private buildOptions(): BuildOptions {
    const c = this.cols;
    return {
      format: this.format(),
      keyColumn: this.opts.keyColumn,
      profileColumn: this.profileColumn(),
      indexColumns: [c.endpoint, c.identity, c.imei, c.iccid],
    };
  }

  private async doReload(): Promise<void> {
    const file = this.opts.file;
    try {
      const st = await fs.promises.stat(file);
      let data: TableData;
      this.reloadingInBackground = this.inWorker(st.size);
      if (this.reloadingInBackground) {
        data = await this.buildInWorker(file);
      } else {
        try {
          data = buildTable(await fs.promises.readFile(file, 'utf8'), this.buildOptions());
        } catch (e) {
          throw e instanceof TableBuildError ? new DeviceTableError(e.message, file) : e;
        }
      }
      if (this.closed) return;
      this.table = new CompactTable(data);
      this.mtimeMs = st.mtimeMs;
      this.size = st.size;
      this.lastError = undefined;
      this.loadedAt = new Date();
      this.loads++;
      this.lastWarnings = data.warnings;
      this.emit('loaded', { rows: data.count, file, warnings: data.warnings });
      this.changes.emit('change', { all: true } satisfies DeviceChange);
    } catch (e) {
      this.fail(e);
    }
  }

  private buildInWorker(file: string): Promise<TableData> {
    return new Promise<TableData>((resolve, reject) => {
      const w = new Worker(path.join(__dirname, 'table-worker.js'), { workerData: { file, options: this.buildOptions() } });
      this.worker = w;
      let settled = false;
      w.once('message', (m: { ok: true; data: TableData } | { ok: false; message: string }) => {
        settled = true;
        if (m.ok) resolve(m.data);
        else reject(new DeviceTableError(m.message, file));
        void w.terminate();
      });
      w.once('error', (e) => {
        settled = true;
        reject(e);
      });
      w.once('exit', (code) => {
        if (this.worker === w) this.worker = undefined;
        if (!settled) reject(new DeviceTableError(this.closed ? 'closed while loading' : `the table reader stopped (${code})`, file));
      });
    });
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
  let data: TableData;
  try {
    data = buildTable(text, { format, keyColumn, profileColumn, indexColumns: [] });
  } catch (e) {
    if (e instanceof TableBuildError) throw new DeviceTableError(e.message, file);
    throw e;
  }
  warnings.push(...data.warnings);
  const rows = new Map<string, DeviceRow>();
  for (const row of new CompactTable(data).rows()) rows.set(row.key, row);
  return rows;
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

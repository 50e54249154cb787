/**
 * Reads the JSON Lines audit files newest first (the current file from its end, then the rotated files
 * from the newest), a block at a time, so a history view never loads a whole directory. Lines that are not
 * a JSON object (a torn last line after a crash) are skipped.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AUDIT_FILE, isRotatedAuditFile } from './jsonl';
import { auditEntryMatches, type AuditEntry, type AuditFilter, type AuditReader } from './sink';

const BLOCK = 64 * 1024;

export interface JsonlAuditReaderOptions {
  directory: string;
  /** Lines looked at per query at most, so a query on a large history stays bounded (default 200,000). */
  maxScanLines?: number;
}

export class JsonlAuditReader implements AuditReader {
  private readonly dir: string;
  private readonly maxScan: number;

  constructor(opts: JsonlAuditReaderOptions) {
    this.dir = opts.directory;
    this.maxScan = opts.maxScanLines ?? 200_000;
  }

  async recent(limit: number, filter?: AuditFilter): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    if (limit <= 0) return out;
    for await (const e of this.entries()) {
      if (auditEntryMatches(e, filter)) out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  async find(sessionId: string): Promise<AuditEntry | undefined> {
    for await (const e of this.entries()) if (e.sessionId === sessionId) return e;
    return undefined;
  }

  /** The audit files, newest first. */
  async files(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return [];
    }
    const rotated = names.filter(isRotatedAuditFile).sort().reverse();
    return [...(names.includes(AUDIT_FILE) ? [AUDIT_FILE] : []), ...rotated].map((n) => path.join(this.dir, n));
  }

  /** Every kept entry, newest first, up to maxScanLines lines. */
  async *entries(): AsyncGenerator<AuditEntry> {
    let scanned = 0;
    for (const file of await this.files()) {
      for await (const line of linesBackwards(file)) {
        if (++scanned > this.maxScan) return;
        if (!line.startsWith('{')) continue;
        try {
          const e = JSON.parse(line) as AuditEntry;
          if (e && typeof e === 'object' && typeof e.sessionId === 'string') yield e;
        } catch {
          // a torn or foreign line
        }
      }
    }
  }
}

/** The lines of a file from the last to the first, reading BLOCK bytes at a time from the end. */
async function* linesBackwards(file: string): AsyncGenerator<string> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch {
    return;
  }
  try {
    let pos = (await fh.stat()).size;
    let carry = Buffer.alloc(0);
    while (pos > 0) {
      const len = Math.min(BLOCK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      let chunk = Buffer.concat([buf, carry]);
      let end = chunk.length;
      for (let i = chunk.length - 1; i >= 0; i--) {
        if (chunk[i] !== 0x0a) continue;
        if (end > i + 1) yield chunk.subarray(i + 1, end).toString('utf8');
        end = i;
      }
      carry = chunk.subarray(0, end);
      chunk = Buffer.alloc(0);
    }
    if (carry.length > 0) yield carry.toString('utf8');
  } finally {
    await fh.close().catch(() => undefined);
  }
}

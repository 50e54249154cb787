/**
 * Many device rows -> factory files, and writing them. A row that cannot be used is reported with its
 * endpoint and the reason; the other rows are still exported. Files are created with mode 0600 (owner read
 * and write only) since each holds a device key.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { defaultModel } from '../model/registry';
import { buildFactoryConfig } from './build';
import { parseFactoryFormats, renderFactoryFiles, type FactoryFile, type FactoryFormat } from './formats';
import { FactoryError, type FactoryConfig, type FactoryDevice, type FactoryOptions } from './types';

export interface FactoryExportOptions extends FactoryOptions {
  /** Format names or "all" (default). */
  formats?: string | readonly string[];
}

export interface FactoryExport {
  configs: FactoryConfig[];
  files: FactoryFile[];
  /** Values generated per endpoint, to write back to the device table. Secret. */
  generated: { endpoint: string; pskIdentity?: string; pskKey?: string }[];
  /** Rows that could not be exported: endpoint (as given) and why. Never a key. */
  errors: { endpoint: string; message: string }[];
}

/** Builds and renders every row. Throws FactoryError only for options that spoil every row (URI, formats, mode). */
export function exportFactory(devices: readonly FactoryDevice[], opts: FactoryExportOptions): FactoryExport {
  const formats: FactoryFormat[] = parseFactoryFormats(opts.formats);
  const model = opts.model ?? defaultModel;
  const out: FactoryExport = { configs: [], files: [], generated: [], errors: [] };
  const seen = new Set<string>();
  for (const d of devices) {
    const endpoint = String(d?.endpoint ?? '');
    try {
      const c = buildFactoryConfig(d, opts);
      const files = renderFactoryFiles(c, formats, model);
      const base = files[0]?.name.slice(0, files[0].name.length - formats[0].extension.length - 1);
      if (base !== undefined && seen.has(base)) throw new FactoryError(endpoint, `another row already writes ${base}.*`);
      if (base !== undefined) seen.add(base);
      out.configs.push(c);
      out.files.push(...files);
      if (c.generated.pskIdentity !== undefined || c.generated.pskKey !== undefined) out.generated.push({ endpoint: c.endpoint, ...c.generated });
    } catch (e) {
      if (e instanceof FactoryError && e.endpoint === undefined) throw e;
      out.errors.push({ endpoint, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/**
 * Writes the files into `dir` (created if missing), each 0600, through a temp file and a rename so a reader
 * never sees half a file. Resolves with the paths written.
 */
export async function writeFactoryFiles(dir: string, files: readonly FactoryFile[]): Promise<string[]> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const f of files) {
    if (f.name !== path.basename(f.name) || f.name.startsWith('.')) throw new FactoryError(f.endpoint, `bad file name ${JSON.stringify(f.name)}`);
    const target = path.join(dir, f.name);
    const tmp = path.join(dir, `.${f.name}.${randomBytes(4).toString('hex')}.tmp`);
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(f.content);
      await fh.chmod(0o600); // the umask may have taken bits away, never added: make it exactly 0600
    } finally {
      await fh.close();
    }
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    written.push(target);
  }
  return written;
}

/** The warning every caller shows once per export. */
export const FACTORY_FILES_WARNING =
  'the factory files hold device keys: they are written with mode 0600; keep them off shared drives and delete them once the devices are flashed';

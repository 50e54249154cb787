/**
 * One factory export, shared by the `lwm2m-factory-config` node and the `lwm2m-bootstrap factory` command
 * line: read the device table, build every row's files (lib/factory), write generated keys back to the
 * table first (so the Bootstrap-Server knows a key before any device holds it), then write the files, 0600.
 */
import { promises as fsp } from 'fs';
import { parseRows } from '../devices/file-table';
import { writeBackRows, type RowUpdates } from '../devices/write-back';
import { fillProfile } from '../profile/fill';
import type { BootstrapProfile } from '../profile/types';
import { templateValues } from '../profile/values';
import { exportFactory, writeFactoryFiles } from './export';
import type { FactoryDevice, FactoryMode } from './types';

export interface FactoryRunOptions {
  devicesFile: string;
  tableFormat?: 'auto' | 'csv' | 'json';
  /** Column that names the row (default "endpoint"). */
  keyColumn?: string;
  profileColumn?: string;
  /** Bootstrap PSK identity column (default "pskIdentity", as the CoAPs listener reads it). */
  identityColumn?: string;
  /** Bootstrap PSK column, hex (default "pskKey"). */
  pskColumn?: string;
  outDir: string;
  bootstrapUri: string;
  mode?: FactoryMode;
  formats?: string | readonly string[];
  profiles?: Map<string, BootstrapProfile>;
  defaultProfile?: string;
  keyBytes?: number;
  holdOffSec?: number;
  secTag?: number;
  /** Write generated keys into the table file (default true). */
  writeBack?: boolean;
  /** Only these endpoints (default: every row). */
  endpoints?: readonly string[];
  /** Values for placeholders the row does not fill, as profile lookup finds them (Node-RED env, process env). */
  env?: (name: string) => string | undefined;
  /** Secret template values of the profiles node. */
  secrets?: Record<string, string>;
}

export interface FactoryRunResult {
  devices: number;
  files: string[];
  /** Rows that got a generated key (and identity), written back to the table. */
  generated: string[];
  errors: { endpoint: string; message: string }[];
}

export async function runFactoryExport(o: FactoryRunOptions): Promise<FactoryRunResult> {
  const keyColumn = o.keyColumn || 'endpoint';
  const identityColumn = o.identityColumn || 'pskIdentity';
  const pskColumn = o.pskColumn || 'pskKey';
  const fmt = o.tableFormat ?? 'auto';
  const text = await fsp.readFile(o.devicesFile, 'utf8');
  const rows = parseRows(text, fmt === 'auto' ? (/\.json$/i.test(o.devicesFile) ? 'json' : 'csv') : fmt, keyColumn, o.profileColumn || 'profile', o.devicesFile);
  const wanted = o.endpoints ? new Set(o.endpoints) : undefined;
  const devices: FactoryDevice[] = [];
  const tableKeys: string[] = [];
  for (const r of rows.values()) {
    const v = r.values;
    const endpoint = v.endpoint || r.key;
    if (wanted && !wanted.has(endpoint)) continue;
    tableKeys.push(r.key);
    devices.push({
      endpoint,
      pskIdentity: v[identityColumn] || undefined,
      pskKey: v[pskColumn] || undefined,
      imei: v.imei || undefined,
      iccid: v.iccid || undefined,
      profile: r.profile,
      values: v,
    });
  }
  const result = exportFactory(devices, {
    bootstrapUri: o.bootstrapUri,
    mode: o.mode,
    formats: o.formats,
    profileFor: (name) => o.profiles?.get(name),
    defaultProfile: o.defaultProfile,
    keyBytes: o.keyBytes,
    holdOffSec: o.holdOffSec,
    secTag: o.secTag,
    // The same filling as profile lookup's (device-table text that is a number becomes one, env, secrets).
    fillProfile: (raw, values) => {
      const r = raw as unknown as Record<string, unknown>;
      const filled = templateValues(r, {
        profileDefaults: r.templates,
        env: o.env,
        secrets: o.secrets,
        row: values,
        request: { endpoint: values.endpoint, identity: values.pskIdentity ? { id: values.pskIdentity } : undefined },
      });
      return fillProfile(r, filled.values, filled.textKeys);
    },
  });
  const keyOf = new Map(devices.map((d, i) => [d.endpoint.trim(), tableKeys[i]]));
  if (o.writeBack !== false && result.generated.length) {
    const updates: RowUpdates = new Map();
    for (const g of result.generated) {
      const cols: Record<string, string> = {};
      if (g.pskIdentity !== undefined) cols[identityColumn] = g.pskIdentity;
      if (g.pskKey !== undefined) cols[pskColumn] = g.pskKey;
      updates.set(keyOf.get(g.endpoint) ?? g.endpoint, cols);
    }
    await writeBackRows(o.devicesFile, fmt, keyColumn, updates);
  }
  const files = await writeFactoryFiles(o.outDir, result.files);
  return { devices: result.configs.length, files, generated: result.generated.map((g) => g.endpoint), errors: result.errors };
}

/**
 * Config node `lwm2m-device-table`: a JSON or CSV file mapping devices to a profile name and per-device
 * values, hot-reloaded when the file changes. Used by profile-lookup, the CoAPs listener (PSKs) and
 * factory-config (write-back). A thin adapter: the table is lib/devices' DeviceTable, a DeviceSource, shown
 * as `table` (file operations) and `deviceSource` (the seam); this node only adds the key pattern.
 */
import * as path from 'path';
import type { NodeAPI, NodeDef } from 'node-red';
import type { DeviceLookupNode } from '../shared/config-nodes';
import { compileKeyRegex, deviceKeyFor, DeviceTable, resolveTableFile, type CsvWarning, type MatchOn, type RequestFacts } from '../shared/lib';

interface DeviceTableDef extends NodeDef {
  file: string;
  format: 'auto' | 'csv' | 'json';
  keyColumn: string;
  profileColumn: string;
  matchOn: MatchOn;
  keyRegex: string;
}


export = function (RED: NodeAPI): void {
  function DeviceTableNode(this: DeviceLookupNode, config: DeviceTableDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let table: DeviceTable | undefined;
    let regex: RegExp | undefined;
    const matchOn: MatchOn = (['endpoint', 'identity', 'imei', 'iccid'] as const).includes(config.matchOn)
      ? config.matchOn
      : 'endpoint';

    try {
      regex = compileKeyRegex(config.keyRegex);
    } catch (e) {
      node.configError = RED._('lwm2m-device-table.errors.badRegex', { reason: (e as Error).message } as Record<string, string>);
      node.error(node.configError);
    }
    if (!config.file || !String(config.file).trim()) {
      node.configError = RED._('lwm2m-device-table.errors.noFile');
      node.error(node.configError);
    }

    if (!node.configError) {
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
      const file = resolveTableFile(String(config.file).trim(), userDir);
      table = new DeviceTable({
        file,
        format: config.format || 'auto',
        keyColumn: config.keyColumn || 'endpoint',
        profileColumn: config.profileColumn || 'profile',
      });
      table.on('loaded', (info: { rows: number; warnings: CsvWarning[] }) => {
        node.log(RED._('lwm2m-device-table.log.loaded', { rows: info.rows, file: path.basename(file) }));
        // Rows with missing or extra columns, or a header split by another separator: one warning per load,
        // with line numbers only (a cell may hold a key).
        if (info.warnings.length > 0) {
          const shown = info.warnings.slice(0, 5).map((w) => RED._('lwm2m-device-table.log.line', { line: w.line, message: w.message }));
          if (info.warnings.length > 5) shown.push(RED._('lwm2m-device-table.log.more', { count: info.warnings.length - 5 }));
          node.warn(RED._('lwm2m-device-table.log.rowWarnings', { file: path.basename(file), count: info.warnings.length, lines: shown.join('; ') }));
        }
      });
      table.on('loadFailed', (err: Error) =>
        node.error(RED._('lwm2m-device-table.errors.loadFailed', { file: path.basename(file), reason: err.message })),
      );
      void table.start();
    }

    Object.defineProperty(node, 'table', { get: () => table });
    Object.defineProperty(node, 'deviceSource', { get: () => table });

    node.lookupFor = async (facts: RequestFacts) => {
      if (!table) throw new Error(node.configError ?? RED._('lwm2m-device-table.errors.noFile'));
      const key = deviceKeyFor(facts, matchOn, regex);
      if (key === undefined) return {};
      const row = await table.lookupKey(key);
      if (!row && table.count === 0 && table.lastError) {
        throw new Error(RED._('lwm2m-device-table.errors.unusable', { reason: table.lastError.message }));
      }
      return { key, row };
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = table?.close();
      table = undefined;
      void Promise.resolve(closing).then(() => done());
    });
  }
  RED.nodes.registerType('lwm2m-device-table', DeviceTableNode);
};

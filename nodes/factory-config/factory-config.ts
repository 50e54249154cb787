/**
 * `lwm2m-factory-config`: on any message, exports the factory configuration of the devices in a device
 * table (all rows, or the endpoints in msg.payload) into a folder: one file per device and format, mode 0600
 * (lib/factory's runFactoryExport, which the command line shares). Keys generated for rows that had none are
 * written back to the device table, so the Bootstrap-Server knows them. The output message lists file names
 * and endpoints only, never a key; status says how many devices and files.
 */
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { factory, type BootstrapProfile } from '../shared/lib';
import { configNode, type DeviceLookupNode, type ProfilesNode } from '../shared/config-nodes';
import { translator } from '../shared/i18n';
import { clearStatus, showStatus } from '../shared/status';

const { FACTORY_FILES_WARNING, parseFactoryFormats, runFactoryExport } = factory;

interface FactoryConfigDef extends NodeDef {
  deviceTable: string;
  bootstrapUri: string;
  mode: string;
  formats: string;
  outDir: string;
  profiles: string;
  defaultProfile: string;
  keyBytes: string;
  holdOff: string;
  secTag: string;
  identityColumn: string;
  pskColumn: string;
  writeBack: boolean | string;
}

function optInt(v: unknown, min: number, max: number): number | undefined | null {
  const s = String(v ?? '').trim();
  if (s === '') return undefined;
  if (!/^\d+$/.test(s) || +s < min || +s > max) return null;
  return Number(s);
}

export = function (RED: NodeAPI): void {
  function FactoryConfigNode(this: Node, config: FactoryConfigDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = translator(RED, 'lwm2m-factory-config');
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    let warned = false;

    node.on('input', async (msg: NodeMessage, send, done) => {
      try {
        const tn = configNode<DeviceLookupNode>(RED, config.deviceTable);
        if (!tn || !tn.table) throw new Error(t('errors.noTable', { reason: tn?.configError ?? '-' }));
        const mode = config.mode === 'dm' ? 'dm' : 'bootstrap';
        const pn = configNode<ProfilesNode>(RED, config.profiles);
        if (mode === 'dm' && !pn) throw new Error(t('errors.noProfiles'));
        const keyBytes = optInt(config.keyBytes, 16, 64);
        const holdOff = optInt(config.holdOff, 0, 86400 * 365);
        const secTag = optInt(config.secTag, 0, 2147483647);
        if (keyBytes === null || holdOff === null || secTag === null) throw new Error(t('errors.badNumber'));
        const formats = parseFactoryFormats(config.formats || 'all').map((f) => f.name);
        const endpoints = Array.isArray(msg.payload) ? msg.payload.map(String) : typeof msg.payload === 'string' && msg.payload.trim() && msg.payload !== 'all' ? [msg.payload.trim()] : undefined;
        const profiles = new Map<string, BootstrapProfile>();
        if (pn) for (const name of pn.profileNames()) {
          const p = pn.getProfile(name);
          if (p) profiles.set(name, p.raw as unknown as BootstrapProfile);
        }
        const table = tn.table;
        const writeBack = config.writeBack !== false && config.writeBack !== 'false';
        showStatus(node, 'working', t('status.working'));
        const r = await runFactoryExport({
          devicesFile: table.opts.file,
          tableFormat: table.opts.format,
          keyColumn: table.opts.keyColumn,
          profileColumn: table.opts.profileColumn,
          identityColumn: config.identityColumn || undefined,
          pskColumn: config.pskColumn || undefined,
          outDir: path.resolve(userDir, config.outDir || 'factory'),
          bootstrapUri: config.bootstrapUri,
          mode,
          formats,
          profiles,
          defaultProfile: config.defaultProfile || pn?.defaultProfile || undefined,
          keyBytes,
          holdOffSec: holdOff,
          secTag,
          writeBack,
          endpoints,
          env: (name) => {
            const v = RED.util.evaluateNodeProperty(name, 'env', node, msg) as unknown;
            return v === undefined || v === null ? undefined : String(v);
          },
          secrets: pn?.secretValues?.(),
        });
        if (r.generated.length) await table.reload();
        if (!warned) {
          node.warn(FACTORY_FILES_WARNING);
          warned = true;
        }
        for (const e of r.errors) node.warn(e.message);
        if (r.generated.length && !writeBack) node.warn(t('warnings.notWrittenBack', { count: r.generated.length }));
        const text = t('status.done', { devices: r.devices, files: r.files.length });
        if (r.errors.length) showStatus(node, 'failed', `${text} · ${t('status.failedRows', { count: r.errors.length })}`);
        else showStatus(node, 'done', text);
        (msg as NodeMessage & { payload: unknown }).payload = {
          devices: r.devices,
          outDir: path.resolve(userDir, config.outDir || 'factory'),
          files: r.files.map((f) => path.basename(f)),
          generated: r.generated,
          errors: r.errors,
        };
        send(msg);
        done();
      } catch (e) {
        showStatus(node, 'failed', t('status.failed'));
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearStatus(node);
      done();
    });
  }

  RED.nodes.registerType('lwm2m-factory-config', FactoryConfigNode);
};

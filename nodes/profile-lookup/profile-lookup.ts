/**
 * `lwm2m-profile-lookup`: finds the bootstrap profile for a request — msg.profile from upstream, else the
 * device table's profile for this device, else the configured (or default) profile name — fills its
 * `${…}` placeholders per device, validates the result and puts it on msg.profile: a read-only view of a
 * ValidatedProfile (frozen), which object-write and the library take without checking it again. A node that
 * writes to it in place gets an error saying how to change it instead (a copy), rather than losing the edit.
 * Output 1: found. Output 2: not found (msg.payload says why).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { DeviceRow } from '../shared/lib';
import { configNode, type DeviceLookupNode, type ProfilesNode } from '../shared/config-nodes';
import { generatePskCredentials, OneTimeCredentials, ProfileError, profileView, viewTarget } from '../shared/lib';
import type { Lwm2mMsgInfo } from '../shared/session-ref';
import { NotABootstrapMessageError } from '../shared/session-ref';
import { translator } from '../shared/i18n';
import { quietMetrics } from '../shared/hops';
import { clearStatus, showStatus } from '../shared/status';
import { fillProfile, templateValues } from '../shared/lib';

interface LookupDef extends NodeDef {
  profiles: string;
  deviceTable: string;
  /** An lwm2m-postgres config node: device rows from PostgreSQL (same lookupFor contract as the table). */
  deviceSource?: string;
  profileName: string;
  profileNameType: string;
  useMsgProfile: boolean;
  unknownDevice: 'default' | 'notFound';
  oneTimePsk: boolean;
  identityPrefix: string;
  keyBytes: string;
}


/** The template values of one-time credentials (lib templateValues' oneTime). */
const ONE_TIME_NAMES = ['pskIdentity', 'pskKey'];

type Msg = NodeMessageInFlow & { lwm2m?: Lwm2mMsgInfo; profile?: unknown };

export = function (RED: NodeAPI): void {
  function ProfileLookupNode(this: Node, config: LookupDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    quietMetrics(node); // Node-RED's per-message metric events, when they go nowhere (../shared/hops.ts)
    const t = translator(RED, 'lwm2m-profile-lookup');
    const profiles = configNode<ProfilesNode>(RED, config.profiles);
    const tableId = config.deviceTable || config.deviceSource;
    const table = configNode<DeviceLookupNode>(RED, tableId);
    const keyBytes = Math.min(64, Math.max(16, Number(config.keyBytes) || 16));

    if (config.profiles && !profiles) node.error(t('errors.missingProfiles'));
    if (tableId && !table) node.error(t('errors.missingTable'));
    if (!config.profiles && !tableId && config.useMsgProfile === false) node.error(t('errors.noSource'));
    // Invalid profiles are known at deploy: say so here too (red, with the first problem), not only when a
    // device asks.
    if (profiles?.configError) {
      node.error(t('errors.badProfiles', { reason: profiles.configError }));
      showStatus(node, 'failed', profiles.configError);
    }

    node.on('input', async (msg: Msg, send, done) => {
      try {
        const info = msg.lwm2m;
        if (!info || typeof info !== 'object' || typeof info.endpoint !== 'string') {
          throw new NotABootstrapMessageError(t('errors.noSession'));
        }
        showStatus(node, 'working', lookingText);
        const notFound = (reason: string, vars: Record<string, unknown> = {}) => {
          msg.payload = t(`notFound.${reason}`, { endpoint: info.endpoint, ...vars });
          (info as Lwm2mMsgInfo & { notFound?: unknown }).notFound = { reason, ...vars };
          showStatus(node, 'failed', t('status.notFound'));
          send([null, msg]);
          done();
        };

        let raw: Record<string, unknown> | undefined;
        let name: string | undefined;
        let row: DeviceRow | undefined;
        if (config.useMsgProfile !== false && msg.profile !== undefined && msg.profile !== null && msg.profile !== '') {
          raw = parseMsgProfile(msg.profile);
          name = typeof raw.name === 'string' ? raw.name : t('label.fromMsg');
        } else {
          if (table) {
            if (table.configError) throw new Error(table.configError);
            const found = await table.lookupFor(info);
            row = found.row;
            if (!row && config.unknownDevice === 'notFound') {
              return notFound(found.key === undefined ? 'noKey' : 'notInTable', { key: found.key ?? '' });
            }
          }
          // (No profile name configured: no promise to wait for, in a storm one per message.)
          name = row?.profile || (config.profileName ? await configuredName(msg) : undefined) || profiles?.defaultProfile || undefined;
          if (!name) return notFound('noName');
          if (!profiles) throw new Error(t('errors.missingProfiles'));
          const stored = profiles.getProfile(name);
          if (!stored) return notFound('unknownProfile', { name });
          if (stored.issues.length > 0) {
            // Answer the device now (the "not found" path), rather than leave it waiting for the listener's
            // decision timeout; the profile's problems were logged at deploy.
            const first = stored.issues[0];
            return notFound('invalidProfile', { name, pointer: first.pointer || '/', problem: first.message });
          }
          raw = stored.raw;
        }

        let oneTime: { pskIdentity: string; pskKey: string } | undefined;
        if (config.oneTimePsk) {
          const prefix = (config.identityPrefix ?? '').replace(/\$\{endpoint\}/g, info.endpoint);
          const c = generatePskCredentials({ identityPrefix: prefix, keyBytes });
          oneTime = { pskIdentity: c.identity, pskKey: c.key.toString('hex') };
        }
        // `record`: the template as read for this message (its placeholder names), which the fill below reuses.
        const rowValues = row?.values;
        const { values, textKeys, unresolved, record } = templateValues(raw, {
          profileDefaults: raw.templates,
          env: (n) => {
            // The row's value replaces the environment's (templateValues' order), and its name is among
            // textKeys either way: no environment lookup for it (Node-RED's getEnvVar walks the flow's
            // groups and settings, ~1% of a storm's CPU per name).
            if (rowValues !== undefined && Object.prototype.hasOwnProperty.call(rowValues, n)) return undefined;
            const v = RED.util.evaluateNodeProperty(n, 'env', node, msg) as unknown;
            return v === undefined || v === null ? undefined : String(v);
          },
          secrets: profiles?.secretValues(),
          row: rowValues,
          request: info,
          oneTime,
        });
        if (unresolved.length > 0) {
          throw new ProfileError(unresolved.map((name) => ({ pointer: '', message: t('errors.noRequestValue', { name }) })));
        }
        // One-time credentials never repeat: a profile that uses them is not remembered for another device.
        const filled = fillProfile(raw, values, textKeys, { record, fresh: oneTime ? ONE_TIME_NAMES : undefined });
        msg.profile = profileView(filled, { message: readOnlyMessage });
        info.profileName = name;
        // Shown as <redacted> in JSON (the debug sidebar, files, logs): lib/profile/redact.ts.
        if (oneTime) info.credentials = new OneTimeCredentials(oneTime.pskIdentity, oneTime.pskKey);
        msg.payload = t('payload.found', { endpoint: info.endpoint, name });
        showStatus(node, 'done', foundText(name));
        send([msg, null]);
        done();
      } catch (e) {
        showStatus(node, 'failed', t('status.failed'));
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });

    /** Status texts, translated once (per profile name) rather than per message: a storm asks for them thousands of times a second. */
    const lookingText = t('status.looking');
    const foundTexts = new Map<string, string>();
    function foundText(name: string): string {
      let text = foundTexts.get(name);
      if (text === undefined) {
        text = t('status.found', { name });
        if (foundTexts.size < 64) foundTexts.set(name, text);
      }
      return text;
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      clearStatus(node);
      done();
    });

    function readOnlyMessage(pointer: string): string {
      return t('errors.readOnly', { pointer: pointer || '/' });
    }

    function configuredName(msg: Msg): Promise<string | undefined> {
      return new Promise((resolve, reject) => {
        if (!config.profileName) return resolve(undefined);
        RED.util.evaluateNodeProperty(config.profileName, config.profileNameType || 'str', node, msg, (err, v) => {
          if (err) reject(err);
          else resolve(v === undefined || v === null || v === '' ? undefined : String(v));
        });
      });
    }

    function parseMsgProfile(p: unknown): Record<string, unknown> {
      let v = p;
      if (typeof p === 'string') {
        try {
          v = JSON.parse(p);
        } catch (e) {
          throw new ProfileError([{ pointer: '', message: t('errors.msgProfileJson', { reason: (e as Error).message }) }]);
        }
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) {
        throw new ProfileError([{ pointer: '', message: t('errors.msgProfileObject') }]);
      }
      // Another profile-lookup's msg.profile: fill from the frozen profile behind its read-only view.
      return viewTarget(v) as Record<string, unknown>;
    }
  }
  RED.nodes.registerType('lwm2m-profile-lookup', ProfileLookupNode);
};

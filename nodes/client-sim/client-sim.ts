/**
 * `lwm2m-client-sim`: one simulated LwM2M device, or a fleet of N, that bootstraps against a
 * Bootstrap-Server (this package's flow or any other) and registers with the LwM2M servers it was given.
 * Output 1: trace events (single device) or periodic summaries (fleet); output 2: one message per bootstrap
 * with its Mermaid sequence diagram. Commands by message (see commands.ts). The PSK is a credential.
 */
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { translator } from '../shared/i18n';
import { logText } from '../shared/lib';
import { clearStatus, showStatus } from '../shared/status';
import { CommandError, parseCommand, SimController, type SimSettings, type SimStatusKind } from '../shared/client';
import { observeHub } from '../shared/observe';
import { readSettings, SettingsError, type ClientSimDef } from './settings';

interface ClientSimNode extends Node<{ pskKey: unknown }> {
  /** For tests and the editor: the live controller (undefined when the settings are invalid). */
  controller?: SimController;
}

type RedUtil = { getSetting?: (node: Node, name: string) => unknown };

export = function (RED: NodeAPI): void {
  function ClientSimNodeCtor(this: ClientSimNode, config: NodeDef & Partial<ClientSimDef>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = translator(RED, 'lwm2m-client-sim');
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
    const defaultDir = userDir ? path.join(userDir, 'lwm2m-client-sim', node.id) : undefined;
    const util = RED.util as unknown as RedUtil;
    const env = (name: string): string | undefined => {
      const v = util.getSetting ? util.getSetting(node, name) : process.env[name];
      return v === undefined || v === null ? undefined : String(v);
    };

    const status = (kind: SimStatusKind, key: string, vars?: Record<string, unknown>) => {
      const text = t(key, vars);
      if (kind === 'idle') node.status({ fill: 'grey', shape: 'ring', text });
      else showStatus(node, kind, text);
    };

    const pskKey = typeof node.credentials?.pskKey === 'string' && node.credentials.pskKey.trim() ? node.credentials.pskKey.trim() : undefined;
    let settings: SimSettings;
    try {
      settings = readSettings(config, env, defaultDir, userDir);
      if (/^coaps:/i.test(settings.bsUri) && !settings.deviceFile && !settings.factoryFile && (!pskKey || !settings.pskIdentity)) {
        throw new SettingsError('pskNeeded', 'pskKey');
      }
    } catch (e) {
      const err = e as Error;
      node.error(err instanceof SettingsError ? t(`errors.${err.key}`, { field: err.field }) : err.message);
      showStatus(node, 'failed', t('status.badConfig'));
      node.on('close', (_r: boolean, done: () => void) => {
        clearStatus(node);
        done();
      });
      return;
    }

    // The sidebar shows this node's devices and draws the last bootstrap from the (masked) trace.
    let sim: { event(msg: Record<string, unknown>): void; detach(): void } | undefined;
    const controller = new SimController(settings, pskKey, {
      event: (msg) => {
        sim?.event(msg);
        node.send([msg as NodeMessage, null]);
      },
      diagram: (msg) => node.send([null, msg as NodeMessage]),
      status,
      // Warnings carry what the Bootstrap-Server answered (peer text): escaped and cut before the log.
      warn: (m) => node.warn(logText(m, 300)),
    });
    node.controller = controller;
    sim = observeHub(RED).sims.attach({ id: node.id, name: node.name || '', mode: settings.mode }, () => controller.snapshot());

    const ready = controller.init().then(
      async () => {
        if (!settings.autoStart) return true;
        try {
          await controller.start();
        } catch (e) {
          node.error(t('errors.initFailed', { reason: (e as Error).message }));
          showStatus(node, 'failed', t('status.initFailed'));
        }
        return true;
      },
      (e: Error) => {
        node.error(t('errors.initFailed', { reason: e.message }));
        showStatus(node, 'failed', t('status.initFailed'));
        return false;
      },
    );

    node.on('input', async (msg: NodeMessage, _send, done) => {
      try {
        const cmd = parseCommand(msg as unknown as Record<string, unknown>);
        if (!(await ready)) throw new Error(t('errors.notReady'));
        const unknown = controller.unknownEndpoints(cmd.endpoints);
        if (unknown.length) throw new CommandError('badEndpoint', unknown.join(', '));
        const reply = await controller.command(cmd);
        if (reply) node.send([{ ...reply, _msgid: msg._msgid } as NodeMessage, null]);
        done();
      } catch (e) {
        if (e instanceof CommandError) done(new Error(t(`errors.command.${e.reason}`, { detail: e.detail })));
        else done(e as Error);
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      ready
        .then(() => controller.close(removed))
        .catch((e: Error) => node.warn(e.message))
        .finally(() => {
          sim?.detach();
          clearStatus(node);
          done();
        });
    });
  }

  RED.nodes.registerType('lwm2m-client-sim', ClientSimNodeCtor, { credentials: { pskKey: { type: 'password' } } });
};

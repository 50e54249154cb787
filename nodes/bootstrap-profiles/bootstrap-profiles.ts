/**
 * Config node `lwm2m-bootstrap-profiles`: named bootstrap profiles, written as JSON in the editor (checked
 * there against the schema through an admin endpoint) and validated again when the flow starts. Secret
 * template values (e.g. a DM server's PSK) live in the node's credentials, never in the flow file.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { ProfilesNode } from '../shared/config-nodes';
import { freezeTemplate, parseProfiles } from '../shared/lib';

interface ProfilesDef extends NodeDef {
  profiles: string;
  defaultProfile: string;
}
interface ProfilesCreds {
  secrets?: string;
}

/** The contract of nodes/shared/config-nodes.ts, with this node's credentials. */
type ProfilesConfigNode = ProfilesNode & Node<ProfilesCreds>;

const ROUTE = '/lwm2m-bootstrap';

export = function (RED: NodeAPI): void {
  function BootstrapProfilesNode(this: ProfilesConfigNode, config: ProfilesDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const parsed = parseProfiles(config.profiles);
    // Frozen, deep: profile-lookup fills a stored profile per bootstrap, and a template that cannot change is
    // read once (its text and placeholder names are remembered, lib/profile/template-memo.ts) instead of
    // serialized again for every device. Nothing writes to a stored profile; a write would now throw.
    for (const p of parsed.profiles.values()) freezeTemplate(p.raw);
    // A profile that breaks the schema would fail every device that gets it: an error at deploy (not a
    // warning), and the first problem for the status of every node that uses these profiles.
    for (const issue of parsed.issues) {
      node.error(RED._('lwm2m-bootstrap-profiles.errors.issue', { pointer: issue.pointer || '/', message: issue.message }));
    }
    if (parsed.issues.length > 0) {
      const first = parsed.issues[0];
      node.configError = RED._('lwm2m-bootstrap-profiles.errors.invalid', {
        count: parsed.issues.length,
        pointer: first.pointer || '/',
        message: first.message,
      });
    }
    for (const pointer of parsed.literalSecrets) {
      node.warn(RED._('lwm2m-bootstrap-profiles.errors.literalSecret', { pointer }));
    }
    node.defaultProfile = (config.defaultProfile || '').trim();
    if (node.defaultProfile && !parsed.profiles.has(node.defaultProfile)) {
      node.warn(RED._('lwm2m-bootstrap-profiles.errors.noDefault', { name: node.defaultProfile }));
    }
    let secrets: Record<string, string> = {};
    const rawSecrets = node.credentials?.secrets;
    if (rawSecrets && rawSecrets.trim()) {
      try {
        const obj = JSON.parse(rawSecrets) as unknown;
        if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not an object');
        secrets = Object.fromEntries(Object.entries(obj as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      } catch {
        // Never echo the text: it holds secrets.
        node.error(RED._('lwm2m-bootstrap-profiles.errors.badSecrets'));
      }
    }
    node.getProfile = (name) => parsed.profiles.get(name);
    node.profileNames = () => [...parsed.profiles.keys()];
    node.secretValues = () => ({ ...secrets });
  }

  RED.nodes.registerType('lwm2m-bootstrap-profiles', BootstrapProfilesNode as never, {
    credentials: { secrets: { type: 'password' } },
  });

  // Editor support: check profiles as the operator types, and publish the JSON Schema.
  const read = RED.auth.needsPermission('lwm2m-bootstrap-profiles.read');
  RED.httpAdmin.post(`${ROUTE}/profiles/validate`, read, (req, res) => {
    const body = (req.body ?? {}) as { profiles?: unknown };
    const text = typeof body.profiles === 'string' ? body.profiles : JSON.stringify(body.profiles ?? []);
    const parsed = parseProfiles(text);
    res.json({
      ok: parsed.issues.length === 0,
      names: [...parsed.profiles.keys()],
      issues: parsed.issues,
      literalSecrets: parsed.literalSecrets,
    });
  });
  RED.httpAdmin.get(`${ROUTE}/profile.schema.json`, read, (_req, res) => {
    const file = path.resolve(__dirname, '..', '..', 'lib', 'profile', 'profile.schema.json');
    fs.readFile(file, 'utf8', (err, text) => {
      if (err) res.status(404).json({ error: 'schema not found' });
      else res.type('application/json').send(text);
    });
  });
};

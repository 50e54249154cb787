'use strict';
// Node-RED settings for `npm start` (the demo). See scripts/start.js for the environment it reads.
module.exports = {
  flowFile: 'flows.json',
  flowFilePretty: true,
  uiPort: Number(process.env.PORT || 1880),
  // Loopback unless EDITOR_ADDRESS says otherwise (scripts/demo-env.js); beyond loopback only with a login.
  uiHost: process.env.EDITOR_HOST || '127.0.0.1',
  adminAuth: process.env.DEMO_ADMIN_HASH
    ? { type: 'credentials', users: [{ username: 'admin', password: process.env.DEMO_ADMIN_HASH, permissions: '*' }] }
    : undefined,
  // Credentials (PSKs, private keys) are encrypted with this secret in flows_cred.json. Set
  // NODE_RED_CREDENTIAL_SECRET for anything beyond a demo; without it Node-RED generates one.
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || undefined,
  logging: { console: { level: process.env.LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  functionGlobalContext: {},
};

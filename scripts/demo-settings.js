'use strict';
// Node-RED settings for `npm start` (the demo). See scripts/start.js for the environment it reads.
module.exports = {
  flowFile: 'flows.json',
  flowFilePretty: true,
  uiPort: Number(process.env.PORT || 1880),
  // Credentials (PSKs, private keys) are encrypted with this secret in flows_cred.json. Set
  // NODE_RED_CREDENTIAL_SECRET for anything beyond a demo; without it Node-RED generates one.
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || undefined,
  logging: { console: { level: process.env.LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  functionGlobalContext: {},
};

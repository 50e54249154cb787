'use strict';
// Node-RED settings for the editor tests (see node-red.js): no projects, no tours, no telemetry prompt,
// English runtime messages (the editor language comes from the browser), a fixed credential secret so the
// runtime does not generate one, and info logging so the tests can look for [error] lines.
module.exports = {
  flowFile: 'flows.json',
  flowFilePretty: true,
  uiHost: '127.0.0.1',
  credentialSecret: 'lwm2m-editor-test',
  lang: 'en-US',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: {
    projects: { enabled: false },
    tours: false,
    palette: { catalogues: [] },
    multiplayer: { enabled: false },
  },
  telemetry: { enabled: false },
  diagnostics: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  functionGlobalContext: {},
};

// Admin auth for the tests that need it (support/node-red.js `adminToken`): no users, two bearer tokens.
if (process.env.LWM2M_TEST_ADMIN_TOKEN) {
  module.exports.adminAuth = {
    type: 'credentials',
    users: [],
    tokens(token) {
      if (token === process.env.LWM2M_TEST_ADMIN_TOKEN) return Promise.resolve({ username: 'admin', permissions: '*' });
      if (token === process.env.LWM2M_TEST_READ_TOKEN) return Promise.resolve({ username: 'prometheus', permissions: 'lwm2m-bootstrap.read' });
      if (token === process.env.LWM2M_TEST_OTHER_TOKEN) return Promise.resolve({ username: 'viewer', permissions: 'flows.read' });
      return Promise.resolve(null);
    },
  };
}
// The audit log somewhere else than <userDir>/lwm2m-audit (a directory that cannot be written, for one test).
if (process.env.LWM2M_TEST_AUDIT_DIR) module.exports.lwm2mBootstrap = { audit: { directory: process.env.LWM2M_TEST_AUDIT_DIR } };

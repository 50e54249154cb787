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

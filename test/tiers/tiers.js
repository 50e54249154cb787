// The test tiers beside `npm test` (which runs them all, .mocharc.js). Each tier is mocha's usual settings
// with its own files, picked by folder so that a new test lands in its tier by where it lives:
//   unit:  library tests that open no socket and start no database (codec, model, profile, keys, log text);
//   lib:   every library test (test/lib), over loopback UDP, DTLS and PostgreSQL where they need it;
//   nodes: the nodes in the real Node-RED runtime (test/nodes).
// Used as `mocha --config test/tiers/<tier>.mocharc.js`.
'use strict';

const base = require('../../.mocharc.js');

const SPECS = {
  unit: [
    'dist/test/lib/codec/**/*.test.js',
    'dist/test/lib/model/**/*.test.js',
    'dist/test/lib/profile/**/*.test.js',
    'dist/test/lib/keys/**/*.test.js',
    'dist/test/lib/log-text.test.js',
  ],
  lib: ['dist/test/lib/**/*.test.js'],
  nodes: ['dist/test/nodes/**/*.test.js'],
};

module.exports = (tier) => ({ ...base, spec: SPECS[tier] });

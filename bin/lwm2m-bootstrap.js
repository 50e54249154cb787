#!/usr/bin/env node
'use strict';
// The package's command line (see cli/lwm2m-bootstrap.ts); the compiled code lives in dist/.
require('../dist/cli/lwm2m-bootstrap.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });

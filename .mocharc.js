// mocha's settings for `npm test`. Under CI (CI set, as .ci/run does) a stray `.only` fails the run instead
// of quietly running one test.
'use strict';

module.exports = {
  spec: ['dist/test/**/*.test.js'],
  timeout: 20000,
  exit: true,
  'enable-source-maps': true,
  'forbid-only': Boolean(process.env.CI),
};

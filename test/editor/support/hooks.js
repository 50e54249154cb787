'use strict';
/**
 * Mocha root hooks for the editor suite: one Node-RED and one Chromium for all files (each test opens its
 * own browser context, so cookies and localStorage never leak between tests), stopped at the end.
 */
const fixture = require('./fixture');

exports.mochaHooks = {
  async beforeAll() {
    this.timeout(180000); // the first Chromium start on a cold machine, Node-RED loading every node
    await fixture.start();
  },
  async afterAll() {
    this.timeout(30000);
    await fixture.stop();
  },
};

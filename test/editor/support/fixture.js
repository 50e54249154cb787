'use strict';
/** The Node-RED and the Chromium the whole editor suite shares (see hooks.js). */
const { startNodeRed } = require('./node-red');
const { launchBrowser } = require('./browser');

let red = null;
let browser = null;

async function start() {
  const started = Date.now();
  red = await startNodeRed();
  browser = await launchBrowser();
  if (process.env.EDITOR_TEST_VERBOSE) {
    process.stderr.write(`editor suite: Node-RED on ${red.url}, Chromium ${browser.version()}, ready in ${Date.now() - started} ms\n`);
  }
}

async function stop() {
  const b = browser;
  const r = red;
  browser = null;
  red = null;
  if (b) await b.close().catch(() => {});
  if (r) await r.stop();
}

module.exports = {
  start,
  stop,
  get red() {
    if (!red) throw new Error('Node-RED is not running: the root hooks (support/hooks.js) did not start it');
    return red;
  },
  get browser() {
    if (!browser) throw new Error('Chromium is not running: the root hooks (support/hooks.js) did not start it');
    return browser;
  },
};

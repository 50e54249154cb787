'use strict';
/**
 * Debian's Chromium driven by playwright-core (no browser download). Playwright adds --headless and gives
 * every launch a fresh temporary --user-data-dir, removed on close. The other switches keep Chromium off
 * the network: this machine has none, and Chromium otherwise keeps trying (QUIC, component updates, sync,
 * background fetches).
 */
const fs = require('fs');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: 120000, // the first start of Chromium on a cold machine can be slow
  });
}

/**
 * A fresh browser context (own cookies and localStorage) in the given locale: it sets both
 * navigator.language, which the Node-RED editor reads for its language, and the Accept-Language header,
 * which the runtime reads when it serves node help and message catalogs.
 */
async function newEditorContext(browser, { locale = 'en-US' } = {}) {
  const context = await browser.newContext({
    locale,
    viewport: { width: 1680, height: 1000 },
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(20000);
  context.setDefaultNavigationTimeout(60000);
  return context;
}

module.exports = { launchBrowser, newEditorContext, CHROMIUM, ARGS };

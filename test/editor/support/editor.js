'use strict';
/**
 * Driving the Node-RED editor the way an operator does: palette drag, double-click, the edit tray, the
 * Import dialog, the Deploy button, the help sidebar. Helpers wait for what the operator would see
 * (selectors, notifications, statuses), never for a fixed time.
 */
const fs = require('fs');
const path = require('path');
const { newEditorContext } = require('./browser');
const { root } = require('./node-red');

const SCREENSHOTS = path.join(root, 'docs', 'screenshots');

/**
 * Open the editor in a fresh browser context. Returns { page, context, problems, close }; `problems`
 * collects uncaught page errors and console errors (an exception in a node's oneditprepare lands there).
 */
async function openEditor(browser, red, { locale = 'en-US', types = [] } = {}) {
  const context = await newEditorContext(browser, { locale });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  await page.goto(red.url);
  await waitForEditor(page, types);
  return { page, context, problems, close: () => context.close() };
}

/** The editor has loaded its nodes and flows, and the loading bar is gone. */
async function waitForEditor(page, types = []) {
  await page.waitForFunction((wanted) => {
    const R = window.RED;
    if (!R || !R.nodes || !R.workspaces || !R.nodes.getType) return false;
    if (!R.workspaces.active()) return false;
    if (!window.$ || !window.$('#red-ui-loading-progress').is(':hidden')) return false;
    if (document.querySelectorAll('.red-ui-palette-node').length === 0) return false;
    return wanted.every((t) => R.nodes.getType(t));
  }, types, { timeout: 90000 });
}

/** The palette entry of a node type. */
function paletteNode(page, type) {
  return page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
}

/** Drag a node type from the palette onto the active flow; resolves the new node's id. */
async function addFromPalette(page, type, { x = 320, y = 160 } = {}) {
  const before = await page.evaluate(() => { const ids = []; RED.nodes.eachNode((n) => ids.push(n.id)); return ids; });
  const src = paletteNode(page, type);
  await src.scrollIntoViewIfNeeded();
  await src.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x, y } });
  const handle = await page.waitForFunction(({ t, known }) => {
    let id = null;
    RED.nodes.eachNode((n) => { if (n.type === t && !known.includes(n.id)) id = n.id; });
    return id;
  }, { t: type, known: before });
  return handle.jsonValue();
}

/** The SVG group of a node on the canvas. */
function canvasNode(page, id) {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
}

/** Double-click a node on the canvas and wait for its edit tray. */
async function openNodeEditor(page, id) {
  await canvasNode(page, id).dblclick();
  return waitForTray(page);
}

/**
 * The edit tray once it has finished opening: the node's (`config: false`) or a config node's opened from
 * it (`config: true`). Node-RED keeps only the topmost tray in the page.
 */
async function waitForTray(page, { config = false } = {}) {
  const ok = config ? '#node-config-dialog-ok' : '#node-dialog-ok';
  const tray = page.locator('.red-ui-tray', { has: page.locator(ok) }).last();
  await tray.locator('.red-ui-tray-body').waitFor({ state: 'visible' });
  await tray.locator('.red-ui-tray-body input, .red-ui-tray-body select').first().waitFor({ state: 'attached' });
  return tray;
}

/** Click Done (Add/Update for config nodes) or Cancel in the topmost tray and wait for it to go. */
async function closeTray(page, which = 'done') {
  const ids = {
    done: ['#node-config-dialog-ok', '#node-dialog-ok'],
    cancel: ['#node-config-dialog-cancel', '#node-dialog-cancel'],
  }[which];
  for (const id of ids) {
    const button = page.locator(id);
    if ((await button.count()) > 0 && (await button.isVisible())) {
      await button.click();
      await button.waitFor({ state: 'detached' });
      return;
    }
  }
  throw new Error(`no ${which} button in an open tray`);
}

/**
 * Type into a dialog field like a person: select what is there, type the new text, leave the field
 * (Node-RED validates on change).
 */
async function setField(page, selector, value) {
  const input = page.locator(selector);
  await input.fill(String(value));
  await input.dispatchEvent('change');
}

/** Replace the content of a code editor (Monaco, Node-RED's default) inside `container` by typing. */
async function setCodeEditor(page, container, text) {
  await page.locator(container).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // Monaco's auto-closing must not have changed what was typed.
  const value = await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const ed = window.monaco && window.monaco.editor.getEditors().find((e) => el.contains(e.getContainerDomNode()));
    return ed ? ed.getValue() : null;
  }, container);
  if (value !== null && value !== text) throw new Error(`code editor holds ${JSON.stringify(value)}, not what was typed`);
}

/**
 * The message Node-RED shows for an invalid field: the field gets the red `input-error` border and, when
 * the node's validator returns a message (Node-RED >= 3.1), a tooltip with it on hover. Resolves
 * { error: boolean, message: string|null }.
 */
async function fieldValidation(page, selector) {
  const input = page.locator(selector);
  const error = await input.evaluate((el) => {
    const next = el.nextElementSibling;
    return el.classList.contains('input-error') ||
      !!(next && next.classList.contains('red-ui-typedInput-container') && next.classList.contains('input-error'));
  });
  if (!error) return { error, message: null };
  await input.hover();
  const tip = page.locator('.red-ui-popover.red-ui-popover-tooltip:visible, .red-ui-popover:visible').last();
  try {
    await tip.waitFor({ state: 'visible', timeout: 3000 });
  } catch {
    return { error, message: null };
  }
  const message = (await tip.innerText()).trim();
  await page.mouse.move(5, 5); // away, so the tooltip goes
  return { error, message: message || null };
}

/** Open the help sidebar and show `label` from the node help tree of `module`. Resolves the help locator. */
async function showHelpFromIndex(page, moduleName, label) {
  await page.click('#red-ui-tab-help-link-button');
  const toc = page.locator('.red-ui-sidebar-help-toc');
  await toc.waitFor({ state: 'visible' });
  const mod = toc.locator('.red-ui-treeList-label', { hasText: moduleName }).first();
  await mod.waitFor({ state: 'visible' });
  const entry = toc.locator('.red-ui-treeList-label', { has: page.locator('.red-ui-node-label', { hasText: label }) });
  if (!(await entry.first().isVisible())) await mod.click();
  await entry.first().click();
  return helpPanel(page);
}

/** The help panel of the sidebar: an h1.red-ui-help-title and the help text under it. */
function helpPanel(page) {
  return page.locator('.red-ui-sidebar-info .red-ui-help:has(> h1.red-ui-help-title)');
}

/**
 * Check that the help panel shows `type`'s help in `lang` as the package writes it
 * (locales/<lang>/<name>.html): the title, the first paragraph and the section headings.
 * Resolves null when it does, else a description of the difference.
 */
async function helpDifference(page, panel, expectedHtml, expectedTitle) {
  await panel.locator('h1.red-ui-help-title').waitFor({ state: 'visible' });
  return page.evaluate(({ html, title, sel }) => {
    const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
    const doc = new DOMParser().parseFromString(`<div>${html}</div>`, 'text/html');
    const p = doc.querySelector('p');
    const heads = [...doc.querySelectorAll('h3')].map((h) => norm(h.textContent));
    const shown = document.querySelector(sel);
    if (!shown) return 'no help panel';
    const shownTitle = norm(shown.querySelector('h1.red-ui-help-title').textContent);
    if (title && shownTitle !== norm(title)) return `title is "${shownTitle}", expected "${title}"`;
    const body = shown.querySelector(':scope > .red-ui-help');
    if (!body) return 'the help panel has no text';
    if (body.querySelector('.red-ui-help-info-none')) return 'the help panel says there is no help';
    const text = norm(body.textContent);
    if (p && !text.includes(norm(p.textContent))) return `the first paragraph "${norm(p.textContent)}" is not shown`;
    const shownHeads = [...body.querySelectorAll('h3')].map((h) => norm(h.textContent));
    const missing = heads.filter((h) => !shownHeads.includes(h));
    if (missing.length) return `headings not shown: ${missing.join(', ')} (shown: ${shownHeads.join(', ')})`;
    return null;
  }, { html: expectedHtml, title: expectedTitle, sel: '.red-ui-sidebar-info .red-ui-help:has(> h1.red-ui-help-title)' });
}

/** Close every notification (they sit over the tab bar). */
async function dismissNotifications(page) {
  for (let i = 0; i < 10; i += 1) {
    const n = page.locator('#red-ui-notifications .red-ui-notification:visible');
    if ((await n.count()) === 0) return;
    await n.first().click().catch(() => {});
    await page.waitForFunction((before) => document.querySelectorAll('#red-ui-notifications .red-ui-notification').length < before,
      await page.locator('#red-ui-notifications .red-ui-notification').count(), { timeout: 5000 }).catch(() => {});
  }
}

/**
 * Import > Examples > <module> > <folders…> > <name>, then Import. Resolves the ids of the imported nodes
 * (flow tabs included).
 */
async function importExample(page, moduleName, example) {
  const before = await allIds(page);
  await page.click('#red-ui-header-button-sidemenu');
  await page.click('#menu-item-import');
  const dialog = page.locator('#red-ui-clipboard-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a');
  const tab = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  await tab.waitFor({ state: 'visible' });
  const labelIn = (text) => tab.locator('.red-ui-treeList-label', {
    has: page.locator('.red-ui-treeList-label-text', { hasText: new RegExp(`^${escapeRe(text)}$`) }),
  }).first();
  // The library tree loads its entries lazily and re-renders while it does, so a click can land on an
  // element that is then replaced: repeat until the example is selected and Import is enabled.
  const okEnabled = () => page.waitForFunction(() => {
    const b = document.querySelector('#red-ui-clipboard-dialog-ok');
    return b && !b.disabled && !b.classList.contains('ui-state-disabled') && !b.classList.contains('disabled');
  }, null, { timeout: 5000 }).then(() => true, () => false);
  let selected = false;
  for (let attempt = 0; attempt < 4 && !selected; attempt += 1) {
    const item = labelIn(example.name);
    if (!(await item.isVisible())) {
      await labelIn(moduleName).click();
      for (const folder of example.folders) await labelIn(folder).click();
    }
    await item.waitFor({ state: 'visible', timeout: 10000 }).catch(() => {});
    if (await item.isVisible()) {
      await item.click();
      selected = await okEnabled();
    }
  }
  if (!selected) {
    const shown = await tab.locator('.red-ui-treeList-label-text').allInnerTexts();
    throw new Error(`Import > Examples: cannot select ${[moduleName, ...example.folders, example.name].join(' > ')}; the tree shows ${JSON.stringify(shown)}`);
  }
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  await dialog.waitFor({ state: 'hidden' });
  // The flow is fetched after the click and then imported.
  await page.waitForFunction((known) => {
    const ids = [];
    RED.nodes.eachNode((n) => ids.push(n.id));
    RED.nodes.eachConfig((n) => ids.push(n.id));
    RED.nodes.eachWorkspace((n) => ids.push(n.id));
    return ids.some((id) => !known.includes(id));
  }, before, { timeout: 20000 });
  // Nodes without a flow tab of their own hang on the pointer until a click places them.
  const placing = await page.evaluate(() => RED.view.state() !== RED.state.DEFAULT);
  if (placing) {
    const box = await page.locator('#red-ui-workspace-chart').boundingBox();
    await page.mouse.move(box.x + 200, box.y + 150);
    await page.mouse.click(box.x + 200, box.y + 150);
  }
  const after = await allIds(page);
  return after.filter((id) => !before.includes(id));
}

async function allIds(page) {
  return page.evaluate(() => {
    const ids = [];
    RED.nodes.eachNode((n) => ids.push(n.id));
    RED.nodes.eachConfig((n) => ids.push(n.id));
    RED.nodes.eachWorkspace((n) => ids.push(n.id));
    return ids;
  });
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Click Deploy; resolves the notifications shown up to the success message (throws if none comes). */
async function deploy(page) {
  await dismissNotifications(page);
  const button = page.locator('#red-ui-header-button-deploy');
  await page.waitForFunction(() => !document.querySelector('#red-ui-header-button-deploy').classList.contains('disabled'));
  await button.click();
  // Invalid or unknown nodes make Node-RED ask before deploying: that dialog is a failure to report.
  const success = page.locator('#red-ui-notifications .red-ui-notification-success');
  const confirm = page.locator('.ui-dialog:visible #red-ui-deploy-dialog-confirm-type, .ui-dialog:visible .red-ui-deploy-dialog-confirm-list');
  const first = await Promise.race([
    success.first().waitFor({ state: 'visible', timeout: 30000 }).then(() => 'success'),
    confirm.first().waitFor({ state: 'visible', timeout: 30000 }).then(() => 'confirm'),
  ]);
  const notes = await page.locator('#red-ui-notifications .red-ui-notification').allInnerTexts();
  if (first === 'confirm') {
    const text = await page.locator('.ui-dialog:visible').last().innerText();
    return { deployed: false, confirm: text.trim(), notifications: notes };
  }
  return { deployed: true, confirm: null, notifications: notes };
}

/** The status a node shows on the canvas: { fill, shape, text } (nulls when it shows none). */
async function canvasStatus(page, id) {
  return canvasNode(page, id).evaluate((g) => {
    const shape = g.querySelector('.red-ui-flow-node-status');
    const label = g.querySelector('.red-ui-flow-node-status-label');
    const group = g.querySelector('.red-ui-flow-node-status-group');
    const visible = group && group.style.display !== 'none';
    const cls = (shape && shape.getAttribute('class')) || '';
    const m = /red-ui-flow-node-status-(dot|ring)-(\w+)/.exec(cls);
    return {
      fill: visible && m ? m[2] : null,
      shape: visible && m ? m[1] : null,
      text: visible && label ? label.textContent : null,
    };
  });
}

/** Save a screenshot under docs/screenshots/ (of `locator`, or the whole page). */
async function screenshot(page, name, locator) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, name);
  if (locator) await locator.screenshot({ path: file, animations: 'disabled' });
  else await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

module.exports = {
  SCREENSHOTS,
  openEditor,
  waitForEditor,
  paletteNode,
  addFromPalette,
  canvasNode,
  openNodeEditor,
  waitForTray,
  closeTray,
  setField,
  setCodeEditor,
  fieldValidation,
  showHelpFromIndex,
  helpPanel,
  helpDifference,
  dismissNotifications,
  importExample,
  deploy,
  canvasStatus,
  screenshot,
};

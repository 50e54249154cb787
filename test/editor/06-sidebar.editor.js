'use strict';
/**
 * The "LwM2M" sidebar (issue 15): with the demo flow deployed, a device that bootstraps and one whose
 * Bootstrap-Finish fails show up newest first with their outcomes; a click on the failed one shows its steps
 * and its sequence diagram, drawn as SVG. Screenshots for the README: sidebar.png, sidebar-diagram.png.
 */
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const fixture = require('./support/fixture');
const E = require('./support/editor');
const { root } = require('./support/node-red');

const { ScriptedDevice } = require(path.join(root, 'dist', 'test', 'support', 'scripted-device.js'));
const FLOWS = JSON.parse(fs.readFileSync(path.join(root, 'examples', '01-default-profile.json'), 'utf8'));

/** A scripted device bootstraps against the demo listener; `finish` is its answer to Bootstrap-Finish. */
async function bootstrap(red, ep, finish = '2.04') {
  const dev = await ScriptedDevice.create();
  try {
    if (finish !== '2.04') dev.reply('POST', '/bs', { code: finish, payload: 'battery too low' });
    const res = await dev.bootstrapRequest({ address: '127.0.0.1', port: red.bsPort }, { ep });
    assert.equal(res.code, '2.04');
    await dev.waitFor((r) => r.method === 'POST' && r.path === '/bs', 10000);
  } finally {
    await dev.close();
  }
}

/** A wider sidebar, as an operator would drag it, so the tables and the diagram read well. */
async function widenSidebar(page) {
  const sep = await page.locator('#red-ui-sidebar-separator').boundingBox();
  await page.mouse.move(sep.x + sep.width / 2, sep.y + 200);
  await page.mouse.down();
  await page.mouse.move(sep.x - 260, sep.y + 200, { steps: 8 });
  await page.mouse.up();
}

describe('editor: the LwM2M sidebar', function () {
  let editor;
  afterEach(async function () {
    if (editor) await editor.close();
    editor = null;
  });

  it('shows a bootstrap and a failed one with their outcomes, and draws the failed session as a diagram', async function () {
    const { red } = fixture;
    await red.setFlows(FLOWS);
    editor = await E.openEditor(fixture.browser, red, { locale: 'en-US' });
    const { page } = editor;
    await E.dismissNotifications(page);
    // The operator opens the tab from the sidebar's tab list; its action does the same.
    await page.evaluate(() => RED.actions.invoke('lwm2m-bootstrap:show-sidebar'));
    await page.waitForSelector('#red-ui-sidebar .lwm2m-sb-listener');
    await widenSidebar(page);

    const stamp = Date.now().toString(36);
    const okEp = `meter-ok-${stamp}`;
    const badEp = `meter-bad-${stamp}`;
    await bootstrap(red, okEp);
    await bootstrap(red, badEp, '4.06');

    const okRow = page.locator(`.lwm2m-sb-ended-row[data-endpoint="${okEp}"]`);
    const badRow = page.locator(`.lwm2m-sb-ended-row[data-endpoint="${badEp}"]`);
    await badRow.waitFor();
    await okRow.waitFor();
    assert.equal(await okRow.getAttribute('data-outcome'), 'SUCCESS');
    assert.equal(await badRow.getAttribute('data-outcome'), 'FINISH_FAILED');
    assert.equal(await badRow.locator('td').nth(2).textContent(), 'finish failed');
    // Newest first: the failed one (second) is above the first.
    const order = await page.$$eval('.lwm2m-sb-ended-row', (rows) => rows.map((r) => r.getAttribute('data-endpoint')));
    assert.ok(order.indexOf(badEp) < order.indexOf(okEp), `newest first: ${order.join(', ')}`);
    // Counts per outcome.
    const counts = await page.$$eval('.lwm2m-sb-count', (cs) => Object.fromEntries(cs.map((c) => [c.getAttribute('data-outcome'), c.textContent])));
    assert.match(counts.SUCCESS, /^success: \d+$/);
    assert.match(counts.FINISH_FAILED, /^finish failed: \d+$/);

    // Filter by outcome: only failures stay.
    await page.selectOption('.lwm2m-sb-filter-outcome', 'FINISH_FAILED');
    await okRow.waitFor({ state: 'detached' });
    assert.equal(await badRow.count(), 1);
    await page.selectOption('.lwm2m-sb-filter-outcome', '');
    await okRow.waitFor();
    await E.screenshot(page, 'sidebar.png', page.locator('#red-ui-sidebar'));

    // The failed session: its steps and its drawn sequence diagram.
    await badRow.click();
    const svg = page.locator('.lwm2m-sb-detail svg.lwm2m-sb-diagram');
    await svg.waitFor();
    const arrows = await svg.locator('g.lwm2m-sb-msg text').allTextContents();
    assert.equal(arrows[0], `POST /bs?ep=${badEp}`);
    assert.equal(arrows[1], '2.04 Changed');
    assert.ok(arrows.includes('POST /bs'), `Bootstrap-Finish is drawn: ${arrows.join(' | ')}`);
    assert.equal(arrows[arrows.length - 1], '4.06 battery too low');
    assert.equal(await svg.locator('g.lwm2m-sb-msg-failed').count(), 1);
    assert.equal(await svg.locator('.lwm2m-sb-diagram-outcome').textContent(), 'finish failed');
    const steps = await page.locator('.lwm2m-sb-detail tr.lwm2m-sb-step').count();
    assert.equal(steps, arrows.length / 2 - 1, 'one table row per step, two arrows per step besides the Bootstrap-Request');
    await page.locator('.lwm2m-sb-detail').scrollIntoViewIfNeeded();
    await E.screenshot(page, 'sidebar-diagram.png', page.locator('#red-ui-sidebar'));
    assert.deepEqual(editor.problems, []);
  });

  it("draws a simulated device's last bootstrap from its trace, with the keys masked", async function () {
    const { red } = fixture;
    await red.setFlows(FLOWS);
    editor = await E.openEditor(fixture.browser, red, { locale: 'en-US' });
    const { page } = editor;
    await E.dismissNotifications(page);
    await page.evaluate(() => RED.actions.invoke('lwm2m-bootstrap:show-sidebar'));
    const SIM = 'a1d3e0c5f0b7a004';
    const sim = page.locator(`.lwm2m-sb-sim[data-sim="${SIM}"]`);
    await sim.waitFor();
    await widenSidebar(page);
    // The demo's "bootstrap a simulated device" button.
    const pressed = await red.post('inject/a1d3e0c5f0b7a002', {});
    assert.equal(pressed.status, 200, pressed.body);
    await page.waitForFunction((id) => {
      const el = document.querySelector(`.lwm2m-sb-sim[data-sim="${id}"]`);
      return !!el && el.style.cursor === 'pointer' && /1 bootstraps/.test(el.textContent);
    }, SIM, { timeout: 30000 });
    await sim.click();
    const svg = page.locator(`.lwm2m-sb-detail[data-sim="${SIM}"] svg.lwm2m-sb-diagram`);
    await svg.waitFor();
    const arrows = await svg.locator('g.lwm2m-sb-msg text').allTextContents();
    assert.match(arrows[0], /^POST \/bs\?ep=demo-device/);
    assert.ok(arrows.some((t) => /^PUT \/0\//.test(t)), `a Security write is drawn: ${arrows.join(' | ')}`);
    const payloads = await page.locator('.lwm2m-sb-detail tr.lwm2m-sb-sim-msg td:nth-child(4)').allTextContents();
    const security = payloads.filter((p) => p.includes('"/0/'));
    assert.ok(security.length > 0, 'the Security write payload is listed');
    const keys = security.map((p) => /"\/0\/\d+\/5":"([^"]*)"/.exec(p)).filter(Boolean);
    assert.ok(keys.length > 0, `the Security write carries resource 5 (secret key): ${security.join(' | ')}`);
    for (const m of keys) assert.match(m[1], /^\*\*\* \(\d+ bytes\)$/, `secret key masked: ${m[0]}`);
    await E.screenshot(page, 'sidebar-sim.png', page.locator('#red-ui-sidebar'));
    assert.deepEqual(editor.problems, []);
  });
});

'use strict';
/**
 * Examples: every flow under examples/ appears under Import > Examples, imports with known node types,
 * deploys without a warning dialog or runtime errors, and its listeners show the green "listening" status.
 */
const assert = require('node:assert/strict');
const fixture = require('./support/fixture');
const E = require('./support/editor');
const info = require('./support/package-info');

const LISTENER = 'lwm2m-bootstrap-listener';
const examples = info.examples();

/**
 * The port a listener's settings resolve to: the example flow's own environment (its tab's env, e.g. BS_PORT
 * 5685, so that all examples run side by side), else the test's environment, else the default.
 */
function resolvePort(value, env, transport, tabEnv) {
  const def = transport === 'coaps' ? '5684' : '5683';
  const m = /^\$\{(\w+)\}$/.exec(String(value).trim());
  if (m) {
    const own = (tabEnv || []).find((e) => e.name === m[1]);
    return own ? String(own.value) : env[m[1]] || def;
  }
  return String(value).trim() || def;
}

/** The env of the example's flow tab (as shipped). */
function tabEnvOf(example) {
  const flow = JSON.parse(require('fs').readFileSync(example.file, 'utf8'));
  const tab = flow.find((n) => n.type === 'tab');
  return (tab && tab.env) || [];
}

describe('editor: examples', function () {
  let editor;

  afterEach(async function () {
    if (editor) await editor.close();
    editor = null;
  });

  it('the package has example flows under examples/', function () {
    assert.ok(examples.length > 0, `no *.json under ${info.packageDir}/examples`);
  });

  examples.forEach((example, index) => {
    const label = [...example.folders, example.name].join('/');
    it(`${label}: appears under Import > Examples, deploys without errors and shows its status`, async function () {
      const { red } = fixture;
      await red.setFlows([]);
      editor = await E.openEditor(fixture.browser, red, { locale: 'en-US' });
      const { page } = editor;
      const mark = red.mark();

      const ids = await E.importExample(page, info.PACKAGE, example);
      assert.ok(ids.length > 0, `importing ${label} added nothing`);
      const imported = await page.evaluate((list) => list.map((id) => {
        const n = RED.nodes.node(id) || RED.nodes.workspace(id);
        return n ? { id, type: n.type, z: n.z, known: n.type === 'tab' || !!RED.nodes.getType(n.type), d: !!n.d, port: n.port, transport: n.transport } : { id };
      }), ids);
      const unknown = imported.filter((n) => !n.known).map((n) => n.type);
      assert.deepEqual(unknown, [], `${label} uses node types the editor does not know`);

      // Show the example's first flow tab, as the operator would after importing.
      const tab = imported.find((n) => n.type === 'tab');
      await E.dismissNotifications(page);
      // The empty "Flow 1" the editor opens with is not part of the example (nor of its screenshot).
      if (tab) {
        await page.evaluate((keep) => {
          const empty = [];
          RED.nodes.eachWorkspace((ws) => {
            let used = false;
            RED.nodes.eachNode((n) => { if (n.z === ws.id) used = true; });
            if (ws.id !== keep && !used) empty.push(ws);
          });
          empty.forEach((ws) => RED.workspaces.delete(ws));
        }, tab.id);
      }
      // Shown through the editor's API, not by clicking the tab: two clicks on one tab in quick succession
      // (here and for each listener below) are a double-click, which opens the flow's edit tray over the canvas.
      if (tab) await page.evaluate((id) => RED.workspaces.show(id), tab.id);

      const result = await E.deploy(page);
      assert.equal(result.confirm, null, `deploying ${label} asked first (invalid or unknown nodes): ${result.confirm}`);
      assert.ok(result.deployed, `${label} was not deployed`);

      // Every enabled listener comes up and says so, in green.
      const listeners = imported.filter((n) => n.type === LISTENER && !n.d);
      const cat = info.catalog('en-US', LISTENER);
      for (const l of listeners) {
        const port = resolvePort(l.port, red.env, l.transport, tabEnvOf(example));
        const key = l.transport === 'coaps' ? 'listeningCoaps' : 'listening';
        const expected = info.lookup(cat, `${LISTENER}.status.${key}`).replace('__port__', port);
        if (l.z) await page.evaluate((id) => RED.workspaces.show(id), l.z);
        try {
          await page.waitForFunction(({ id, text }) => {
            const g = document.querySelector(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
            const shape = g && g.querySelector('.red-ui-flow-node-status');
            const lab = g && g.querySelector('.red-ui-flow-node-status-label');
            return !!(shape && /red-ui-flow-node-status-dot-green/.test(shape.getAttribute('class')) &&
              lab && lab.textContent.startsWith(text));
          }, { id: l.id, text: expected }, { timeout: 20000 });
        } catch {
          const st = await E.canvasStatus(page, l.id);
          assert.fail(`${label}: listener ${l.id} shows ${JSON.stringify(st)}, expected a green dot "${expected}"\n` +
            red.since(mark).join('\n'));
        }
      }

      // No node reports a failure, and the runtime logged no error (nor a warning from the package's nodes).
      const failed = await page.evaluate((list) => list.map((id) => RED.nodes.node(id))
        .filter((n) => n && n.status && n.status.fill === 'red')
        .map((n) => `${n.type} ${n.id}: ${n.status.text}`), ids);
      assert.deepEqual(failed, [], `${label}: nodes with a red status`);
      const problems = red.since(mark).filter((l) => /\[error\]/.test(l) || (/\[warn\]/.test(l) && /\[lwm2m-/.test(l)));
      assert.deepEqual(problems, [], `${label}: the runtime logged problems after deploy`);
      assert.deepEqual(editor.problems, [], `${label}: the editor reported errors`);

      if (index === 0) {
        await E.dismissNotifications(page);
        // Zoom out a step, as one does to see a whole flow, for the picture.
        await page.click('#red-ui-view-zoom-out');
        await E.screenshot(page, 'example-deployed.png');
      }
    });
  });
});

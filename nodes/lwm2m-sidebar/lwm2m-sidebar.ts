/**
 * The "LwM2M" editor sidebar (a Node-RED plugin): its editor part is lwm2m-sidebar.html; here it makes sure
 * the runtime's observe hub and its admin routes exist (nodes/shared/observe.ts), also before any listener
 * has been deployed.
 */
import type { NodeAPI } from 'node-red';
import { observeHub } from '../shared/observe';

export = function (RED: NodeAPI): void {
  observeHub(RED);
  (RED as unknown as { plugins: { registerPlugin(id: string, def: object): void } }).plugins.registerPlugin('lwm2m-sidebar', {
    type: 'lwm2m-bootstrap-sidebar',
  });
};

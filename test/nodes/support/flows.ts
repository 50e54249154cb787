/**
 * Node ids are prefixed (n-…, h-… for helper sinks): Node-RED takes a property whose value equals a node id
 * for a reference, so an id like 'finish' would clash with mode: 'finish'.
 *
 * Test flows: listener -> profile lookup -> object write -> bootstrap finish, with a helper node on every output. */

export interface FlowOptions {
  port: number;
  address?: string;
  profiles?: unknown[];
  defaultProfile?: string;
  listener?: Record<string, unknown>;
  lookup?: Record<string, unknown>;
  write?: Record<string, unknown>;
  finish?: Record<string, unknown>;
  table?: Record<string, unknown>;
  /** Leave the listener's output unwired to lookup (tests that drive nodes by hand). */
  listenerOnly?: boolean;
}

export const NOSEC_PROFILE = {
  name: 'meters',
  autoId: true,
  servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', lifetime: 300 }],
};

export function bootstrapFlow(o: FlowOptions): object[] {
  const flow: object[] = [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: 'n-listener',
      z: 'tab',
      type: 'lwm2m-bootstrap-listener',
      transport: 'coap',
      address: o.address ?? '127.0.0.1',
      port: String(o.port),
      decisionTimeout: '10',
      decisionCode: '5.03',
      packTimeout: '5',
      packCode: '4.04',
      requestTimeout: '3',
      sessionTimeout: '30',
      maxSessions: '100',
      ...o.listener,
      wires: [o.listenerOnly ? ['h-requests'] : ['n-lookup', 'h-requests'], ['h-audit']],
    },
    { id: 'h-requests', z: 'tab', type: 'helper' },
    { id: 'h-audit', z: 'tab', type: 'helper' },
    {
      id: 'n-profiles',
      type: 'lwm2m-bootstrap-profiles',
      profiles: JSON.stringify(o.profiles ?? [NOSEC_PROFILE]),
      defaultProfile: o.defaultProfile ?? 'meters',
    },
    {
      id: 'n-lookup',
      z: 'tab',
      type: 'lwm2m-profile-lookup',
      profiles: 'n-profiles',
      deviceTable: o.table ? 'n-table' : '',
      profileName: '',
      profileNameType: 'str',
      useMsgProfile: true,
      unknownDevice: 'default',
      oneTimePsk: false,
      identityPrefix: '${endpoint}-',
      keyBytes: '16',
      ...o.lookup,
      wires: [['n-write', 'h-found'], ['h-notFound']],
    },
    { id: 'h-found', z: 'tab', type: 'helper' },
    { id: 'h-notFound', z: 'tab', type: 'helper' },
    {
      id: 'n-write',
      z: 'tab',
      type: 'lwm2m-object-write',
      mode: 'profile',
      onError: 'stop',
      requestTimeout: '',
      ...o.write,
      wires: [['n-finish', 'h-ok'], ['h-err']],
    },
    { id: 'h-ok', z: 'tab', type: 'helper' },
    { id: 'h-err', z: 'tab', type: 'helper' },
    {
      id: 'n-finish',
      z: 'tab',
      type: 'lwm2m-bootstrap-finish',
      mode: 'finish',
      rejectCode: '4.03',
      diagnostic: '',
      timeout: '',
      outputs: 3,
      ...o.finish,
      wires: [['h-success'], ['h-failure'], ['h-timeout']],
    },
    { id: 'h-success', z: 'tab', type: 'helper' },
    { id: 'h-failure', z: 'tab', type: 'helper' },
    { id: 'h-timeout', z: 'tab', type: 'helper' },
    { id: 'n-catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['h-caught']] },
    { id: 'h-caught', z: 'tab', type: 'helper' },
  ];
  if (o.table) flow.push({ id: 'n-table', type: 'lwm2m-device-table', format: 'auto', keyColumn: 'endpoint', profileColumn: 'profile', matchOn: 'endpoint', keyRegex: '', ...o.table });
  return flow;
}

/** Changes properties of one node of a flow (e.g. its wires). */
export function patch(flow: object[], id: string, props: Record<string, unknown>): object[] {
  const n = flow.find((x) => (x as { id: string }).id === id);
  if (!n) throw new Error(`no node ${id} in the flow`);
  Object.assign(n, props);
  return flow;
}

/** A bootstrap-finish node in reject mode, wired to the helper 'h-rejected'. */
export function rejectNode(id: string, code: string, diagnostic = '', diagnosticType = 'str'): object[] {
  return [
    { id, z: 'tab', type: 'lwm2m-bootstrap-finish', mode: 'reject', rejectCode: code, diagnostic, diagnosticType, timeout: '', outputs: 1, wires: [['h-rejected']] },
    { id: 'h-rejected', z: 'tab', type: 'helper' },
  ];
}

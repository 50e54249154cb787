/**
 * The demo flow the storm runs against, as Node-RED flow JSON: listener -> profile lookup (with the
 * device table) -> object write (Security + Server + APN instance) -> bootstrap finish, over plain CoAP or
 * (with pskTableFile) CoAPs with PSK keys from a second device table. Nothing else is wired: every message
 * in the runtime is bootstrap work. (Ids differ from names: Node-RED takes any string property equal to a
 * config node's id for a reference to it.)
 */
import { benchProfile, PROFILE_NAME } from './scenario';

export interface FlowOptions {
  port: number;
  dmPort: number;
  tableFile: string;
  requestTimeoutS: number;
  maxSessions: number;
  /**
   * CoAPs instead of plain CoAP: the listener takes its PSK keys from this table file (columns endpoint,
   * pskIdentity, pskKey; see scenario.writePskTable) and keeps the endpoint/identity binding check on.
   */
  pskTableFile?: string;
}

export function benchFlow(o: FlowOptions): object[] {
  const coaps = o.pskTableFile
    ? {
        transport: 'coaps',
        pskTable: 'bench-psk-table',
        tableIdentityColumn: 'pskIdentity',
        tableKeyColumn: 'pskKey',
        tableEndpointColumn: 'endpoint',
        cert: '',
        ca: '',
        // Every storm device is a new peer; closed sessions leave at once (close_notify), so this is headroom.
        maxPeers: '20000',
        handshakeTimeout: '30',
        idleTimeout: '600',
        bindingCheck: 'on',
        bindingCode: '4.03',
      }
    : { transport: 'coap' };
  const pskTable = o.pskTableFile
    ? [
        {
          id: 'bench-psk-table',
          type: 'lwm2m-device-table',
          name: 'PSK keys',
          file: o.pskTableFile,
          format: 'csv',
          keyColumn: 'pskIdentity',
          profileColumn: 'profile',
          matchOn: 'identity',
          keyRegex: '',
        },
      ]
    : [];
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    {
      id: 'bench-listener',
      z: 'bench-tab',
      type: 'lwm2m-bootstrap-listener',
      name: 'bootstrap server',
      ...coaps,
      address: '127.0.0.1',
      port: String(o.port),
      decisionTimeout: '30',
      decisionCode: '5.03',
      packTimeout: '5',
      packCode: '4.04',
      requestTimeout: String(o.requestTimeoutS),
      sessionTimeout: '90',
      maxSessions: String(o.maxSessions),
      // All simulated devices share 127.0.0.1 (see server-lib.ts): the per-source cap must not shed them.
      maxPendingPerSource: String(o.maxSessions),
      wires: [['bench-lookup']],
    },
    {
      id: 'bench-profiles',
      type: 'lwm2m-bootstrap-profiles',
      name: 'profiles',
      profiles: JSON.stringify([benchProfile(o.dmPort)]),
      defaultProfile: PROFILE_NAME,
    },
    {
      id: 'bench-table',
      type: 'lwm2m-device-table',
      name: 'devices',
      file: o.tableFile,
      format: 'csv',
      keyColumn: 'endpoint',
      profileColumn: 'profile',
      matchOn: 'endpoint',
      keyRegex: '',
    },
    {
      id: 'bench-lookup',
      z: 'bench-tab',
      type: 'lwm2m-profile-lookup',
      name: 'lookup',
      profiles: 'bench-profiles',
      deviceTable: 'bench-table',
      profileName: '',
      profileNameType: 'str',
      useMsgProfile: true,
      unknownDevice: 'notFound',
      oneTimePsk: false,
      identityPrefix: '${endpoint}-',
      keyBytes: '16',
      wires: [['bench-write'], []],
    },
    {
      id: 'bench-write',
      z: 'bench-tab',
      type: 'lwm2m-object-write',
      name: 'write',
      mode: 'profile',
      onError: 'stop',
      requestTimeout: '',
      wires: [['bench-finish'], []],
    },
    {
      id: 'bench-finish',
      z: 'bench-tab',
      type: 'lwm2m-bootstrap-finish',
      name: 'finish',
      mode: 'finish',
      rejectCode: '4.03',
      diagnostic: '',
      timeout: '',
      outputs: 3,
      wires: [[], [], []],
    },
    ...pskTable,
  ];
}

import type { BootstrapProfile } from '../../../lib/profile';

/** A profile with one PSK server account, as an operator would write it. */
export function meters(): BootstrapProfile {
  return {
    name: 'meters',
    servers: [
      {
        shortServerId: 1,
        uri: 'coaps://dm.example.com:5684',
        securityMode: 'psk',
        pskIdentity: '${endpoint}',
        pskKey: { hex: '000102030405060708090a0b0c0d0e0f' },
        lifetime: 600,
      },
    ],
  };
}

/** JSON round trip, so tests start from plain data as an operator's file would be. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * What every storm bootstraps: the demo profile (one LwM2M Server account, NoSec, plus one APN Connection
 * Profile instance, object 11, whose APN comes per device from the device table), and the device table
 * itself (CSV: endpoint, profile, apn), written once per run and read by both servers.
 */
import * as fs from 'fs';

export const PROFILE_NAME = 'bench';

/** Formats a storm can ask for (the device's `pct`), by the names the report uses. */
export const FORMATS: Record<string, number> = {
  tlv: 11542,
  'senml-json': 110,
  'senml-cbor': 112,
  'lwm2m-cbor': 11544,
};

export function benchProfile(dmPort: number): Record<string, unknown> {
  return {
    name: PROFILE_NAME,
    contentFormat: 'auto',
    autoId: true,
    servers: [
      { shortServerId: 1, uri: `coap://127.0.0.1:${dmPort}`, securityMode: 'nosec', lifetime: 300, binding: 'U' },
    ],
    objects: {
      '11': [{ resources: { '0': 'bench APN', '1': '${apn}', '4': 0 } }],
    },
    templates: { apn: 'internet' },
  };
}

export function endpointName(n: number): string {
  return `bench-dev-${n}`;
}

/** The APN the table gives device n (so a check can tell one device's write from another's). */
export function apnOf(n: number): string {
  return `apn${n % 97}.bench.example`;
}

/** Writes the device table for endpoints 0..count-1. */
export function writeDeviceTable(file: string, count: number): void {
  const lines = ['endpoint,profile,apn'];
  for (let n = 0; n < count; n++) lines.push(`${endpointName(n)},${PROFILE_NAME},${apnOf(n)}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** Reads the table back into endpoint -> row values (the library-only server's "device table"). */
export function readDeviceTable(file: string): Map<string, Record<string, string>> {
  const rows = new Map<string, Record<string, string>>();
  const [head, ...lines] = fs.readFileSync(file, 'utf8').split('\n');
  const cols = head.split(',');
  for (const line of lines) {
    if (!line) continue;
    const cells = line.split(',');
    const row: Record<string, string> = {};
    cols.forEach((c, i) => (row[c] = cells[i]));
    rows.set(row.endpoint, row);
  }
  return rows;
}

/**
 * Writes the PSK key table a CoAPs listener reads (through an lwm2m-device-table config node) for
 * devices first..first+count-1: each device's PSK identity is its endpoint name, and all share one key.
 */
export function writePskTable(file: string, first: number, count: number, keyHex: string): void {
  const lines = ['endpoint,pskIdentity,pskKey'];
  for (let n = first; n < first + count; n++) lines.push(`${endpointName(n)},${endpointName(n)},${keyHex}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

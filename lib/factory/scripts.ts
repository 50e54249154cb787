/**
 * Text formats of a factory configuration: an nRF91 provisioning script and the command lines (or Kconfig
 * fragment) that start common open-source LwM2M clients with the same account. Each file says where its
 * options come from; values are quoted for the shell (identities and URIs were checked to hold no quotes).
 */
import type { FactoryConfig, StartAccount } from './types';

/** One shell word. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Text safe inside a one-line comment. */
function comment(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, '?');
}

function kconfigString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const WARNING = 'WARNING: this file holds the device key. Keep it private (mode 0600) and delete it once the device is flashed.';

function modeName(a: StartAccount): string {
  return a.securityMode === 0 ? 'psk' : a.securityMode === 3 ? 'nosec' : String(a.securityMode);
}

/**
 * nRF91 (nRF9151/9160/9161) modem provisioning: AT%CMNG opcode 0 (write) stores type 4 (PSK identity) and
 * type 3 (PSK, hex) under a security tag; writes need the modem offline (AT+CFUN=4). The nRF Connect SDK
 * LwM2M client reads the bootstrap URI and the tag from its configuration (CONFIG_LWM2M_CLIENT_UTILS_SERVER,
 * CONFIG_LWM2M_CLIENT_UTILS_BOOTSTRAP_TLS_TAG / _SERVER_TLS_TAG), printed at the end.
 */
export function nrf91Script(c: FactoryConfig): string {
  const a = c.start;
  const lines = [
    '#!/bin/sh',
    `# Factory provisioning of LwM2M endpoint ${comment(c.endpoint)} on an nRF91 modem (${c.mode === 'dm' ? 'factory-to-DM' : 'factory-to-bootstrap'}).`,
    `# ${WARNING}`,
    '# Usage: sh THIS_FILE /dev/ttyACM0   (the modem\'s AT serial port), or type the AT lines into a serial terminal.',
    'set -eu',
    'PORT="${1:?give the modem\'s AT serial port, e.g. /dev/ttyACM0}"',
    'at() { printf \'%s\\r\\n\' "$1" > "$PORT"; sleep 1; }',
    '# The modem stores credentials only while offline.',
    "at 'AT+CFUN=4'",
  ];
  if (a.securityMode === 0 && a.pskIdentity !== undefined && a.pskKey) {
    lines.push(
      `# Security tag ${c.secTag}: type 4 = PSK identity, type 3 = PSK (hex).`,
      `at 'AT%CMNG=0,${c.secTag},4,"${a.pskIdentity}"'`,
      `at 'AT%CMNG=0,${c.secTag},3,"${a.pskKey.toString('hex')}"'`,
    );
  } else {
    lines.push(`# ${a.uri} uses NoSec: no credentials to store.`);
  }
  const bs = a.bootstrap;
  lines.push(
    '',
    '# The client side (nRF Connect SDK LwM2M client, prj.conf):',
    `#   CONFIG_LWM2M_CLIENT_UTILS_SERVER=${kconfigString(a.uri)}`,
    `#   CONFIG_LWM2M_CLIENT_UTILS_${bs ? 'BOOTSTRAP' : 'SERVER'}_TLS_TAG=${c.secTag}`,
    `#   CONFIG_LWM2M_RD_CLIENT_SUPPORT_BOOTSTRAP=${bs ? 'y' : 'n'}`,
    `#   endpoint name: ${comment(c.endpoint)}`,
    '',
  );
  return lines.join('\n');
}

export type ClientName = 'wakaama' | 'anjay' | 'leshan' | 'zephyr';

function hostPort(uri: string): { host: string; port: number; v4: boolean } {
  const u = new URL(uri);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : u.protocol === 'coaps:' ? 5684 : 5683;
  return { host, port, v4: /^\d+\.\d+\.\d+\.\d+$/.test(host) || !host.includes(':') };
}

/** The command line (or Kconfig fragment) of one client, starting from the device's first account. */
export function clientArgs(client: ClientName, c: FactoryConfig): string {
  const a = c.start;
  const psk = a.securityMode === 0 && a.pskIdentity !== undefined && a.pskKey;
  const head = [`# ${comment(c.endpoint)}: ${a.bootstrap ? 'Bootstrap-Server' : 'LwM2M Server'} ${comment(a.uri)} (${modeName(a)})`, `# ${WARNING}`];
  const w: string[] = [];
  switch (client) {
    case 'wakaama': {
      // examples/client lwm2mclient: -n endpoint, -h/-p server, -4 IPv4, -b bootstrap, -i PSK identity, -s PSK hex
      // (the DTLS build, e.g. lwm2mclient_tinydtls, for -i/-s).
      const { host, port, v4 } = hostPort(a.uri);
      w.push(psk ? 'lwm2mclient_tinydtls' : 'lwm2mclient', '-n', c.endpoint, '-h', host, '-p', String(port));
      if (v4) w.push('-4');
      if (a.bootstrap) w.push('-b');
      if (psk) w.push('-i', a.pskIdentity as string, '-s', (a.pskKey as Buffer).toString('hex'));
      break;
    }
    case 'anjay':
      // Anjay demo (output/bin/demo): -e endpoint, -u server URI, -b first URI is the Bootstrap-Server,
      // -s security mode, -i PSK identity as hex, -k PSK as hex.
      w.push('./output/bin/demo', '--endpoint-name', c.endpoint, '--server-uri', a.uri);
      if (a.bootstrap) w.push('--bootstrap');
      if (psk) w.push('--security-mode', 'psk', '--identity', Buffer.from(a.pskIdentity as string, 'utf8').toString('hex'), '--key', (a.pskKey as Buffer).toString('hex'));
      break;
    case 'leshan':
      // leshan-client-demo: -n endpoint, -u server URL, -b bootstrap, -i PSK identity, -p PSK as hex.
      w.push('java', '-jar', 'leshan-client-demo.jar', '-n', c.endpoint, '-u', a.uri);
      if (a.bootstrap) w.push('-b');
      if (psk) w.push('-i', a.pskIdentity as string, '-p', (a.pskKey as Buffer).toString('hex'));
      break;
    case 'zephyr': {
      // samples/net/lwm2m_client: NET_SAMPLE_LWM2M_ID is both the endpoint name and the PSK identity.
      const lines = [
        ...head,
        '# Zephyr samples/net/lwm2m_client: build with -DOVERLAY_CONFIG="overlay-dtls.conf;overlay-bootstrap.conf;THIS_FILE"',
        `CONFIG_NET_SAMPLE_LWM2M_ID=${kconfigString(c.endpoint)}`,
        `CONFIG_NET_SAMPLE_LWM2M_SERVER=${kconfigString(a.uri)}`,
        `CONFIG_LWM2M_RD_CLIENT_SUPPORT_BOOTSTRAP=${a.bootstrap ? 'y' : 'n'}`,
        `CONFIG_LWM2M_DTLS_SUPPORT=${psk ? 'y' : 'n'}`,
      ];
      if (psk) {
        lines.push(`CONFIG_NET_SAMPLE_LWM2M_PSK=${kconfigString((a.pskKey as Buffer).toString('hex'))}`);
        if (a.pskIdentity !== c.endpoint) {
          lines.push(`# The sample uses its endpoint name as PSK identity; this device's identity is ${comment(a.pskIdentity as string)}: give it a table row with identity = endpoint for this sample.`);
        }
      }
      return lines.join('\n') + '\n';
    }
  }
  return [...head, w.map(shellWord).join(' '), ''].join('\n');
}

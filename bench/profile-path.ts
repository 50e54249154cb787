/**
 * The profile's cost per bootstrap on the flow's path: profile-lookup's fill (applyTemplate), object-write's
 * check of msg.profile and planBootstrap. Prints microseconds per bootstrap; compare two builds alternated.
 *
 *   npm run build && node dist/bench/profile-path.js [--n 20000]
 */
import * as P from '../lib/profile';

const raw = {
  name: 'meters',
  autoId: true,
  servers: [{ shortServerId: 1, uri: 'coaps://dm.example.com:5684', securityMode: 'psk', pskIdentity: '${endpoint}', pskKey: { hex: '000102030405060708090a0b0c0d0e0f' }, lifetime: 300 }],
  objects: { '11': [{ resources: { '0': 'p', '1': '${apn}', '4': 3 } }] },
} as unknown as P.BootstrapProfile;

function once(i: number): number {
  const p = P.applyTemplate(raw, { endpoint: `dev-${i}`, apn: `apn${i}` });
  return P.planBootstrap(P.validatedProfile(p), { contentFormat: 11542 }).length;
}

const at = process.argv.indexOf('--n');
const n = at > 0 ? Number(process.argv[at + 1]) : 20000;
for (let i = 0; i < 2000; i++) once(i);
const before = P.profileValidations();
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) once(i);
const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
process.stdout.write(`${us.toFixed(1)} us per bootstrap, ${((P.profileValidations() - before) / n).toFixed(2)} validations each (node ${process.version})\n`);

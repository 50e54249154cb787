#!/usr/bin/env node
/**
 * Reads a mocha JSON report (--reporter json --reporter-option output=FILE), prints its counts and the
 * failing titles, and checks that the tests a line must run did run and pass there: tests that are pending
 * on one Node (raw public keys need OpenSSL 3.2) must not go unnoticed where they should run.
 *
 *   node scripts/compat/mocha-check.js REPORT.json [--require 'REGEX=MIN' ...]
 *
 * Each --require: at least MIN tests whose full title matches REGEX passed, and none of them is pending or
 * failing. Exit 0 when every requirement holds and nothing failed, 1 otherwise.
 */
'use strict';
const fs = require('fs');

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: mocha-check.js REPORT.json [--require REGEX=MIN ...]');
  process.exit(2);
}
const requirements = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] !== '--require' || !rest[i + 1]) {
    console.error(`unknown argument ${rest[i]}`);
    process.exit(2);
  }
  const m = /^(.*)=(\d+)$/.exec(rest[++i]);
  if (!m) {
    console.error(`--require wants REGEX=MIN, got ${rest[i]}`);
    process.exit(2);
  }
  requirements.push({ re: new RegExp(m[1]), min: Number(m[2]) });
}

let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`FAIL no readable mocha report at ${file}: ${err.message}`);
  process.exit(1);
}
const titles = (list) => (list || []).map((t) => t.fullTitle);
const passes = titles(report.passes);
const pending = titles(report.pending);
const failures = titles(report.failures);
let ok = failures.length === 0;
console.log(`${passes.length} passing, ${failures.length} failing, ${pending.length} pending`);
for (const t of failures) console.log(`  failing: ${t}`);
for (const { re, min } of requirements) {
  const passed = passes.filter((t) => re.test(t));
  const notRun = [...pending, ...failures].filter((t) => re.test(t));
  const good = passed.length >= min && notRun.length === 0;
  ok = ok && good;
  console.log(`${good ? 'PASS' : 'FAIL'} /${re.source}/: ${passed.length} passed (at least ${min} must), ${notRun.length} pending or failing`);
  for (const t of notRun) console.log(`  not run or failed: ${t}`);
}
process.exit(ok ? 0 : 1);

// Runs the fault suite (test/faults/, or the files given) with tap and prints one table row per scenario:
// scenario | result | data verified. A scenario's "data verified" text comes from the `FAULT-RESULT` line its
// test prints last, and only when every assertion before it passed (test/helpers/faults.ts dataVerified); a
// failing file gets a FAIL row per failing test with "not verified". See docs/RELIABILITY.md.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';

const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : readdirSync('test/faults').filter((f) => f.endsWith('.test.ts')).sort().map((f) => `test/faults/${f}`);

const tap = spawn('npx', ['tap', '--disable-coverage', '--reporter=tap', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
tap.stdout.setEncoding('utf8').on('data', (chunk) => {
  output += chunk;
  process.stderr.write(chunk.split('\n').filter((line) => /^\s*(not ok|# Subtest: test\/faults|ok \d+ - test)/.test(line)).map((line) => `${line}\n`).join(''));
});
const exitCode = await new Promise((resolve) => tap.once('close', resolve));

const rows = [];
let file;
let verified = [];
let failing = [];
for (const line of output.split('\n')) {
  const opened = /^# Subtest: (test\/faults\/\S+)/.exec(line);
  if (opened) {
    [file, verified, failing] = [opened[1], [], []];
    continue;
  }
  if (file === undefined) continue;
  const result = /FAULT-RESULT (\{.*\})\s*$/.exec(line);
  if (result) verified.push(JSON.parse(result[1]));
  // A failing test of the file (four spaces: a top-level test; eight: its subtests).
  const failed = /^ {4}(?: {4})?not ok \d+ - (.*?)(?: # time=.*)?$/.exec(line);
  if (failed) failing.push(failed[1]);
  const closed = /^(not ok|ok) \d+ - (test\/faults\/\S+)/.exec(line);
  if (closed) {
    for (const entry of verified) rows.push({ scenario: entry.scenario, result: 'pass', verified: entry.verified });
    if (closed[1] === 'not ok') {
      const names = failing.length > 0 ? failing : [file];
      for (const name of names) rows.push({ scenario: `${name} (${file.replace('test/faults/', '')})`, result: 'FAIL', verified: 'not verified' });
    }
    file = undefined;
  }
}

const escape = (text) => String(text).replaceAll('|', '\\|');
console.log('\n| scenario | result | data verified |\n|---|---|---|');
for (const row of rows) console.log(`| ${escape(row.scenario)} | ${row.result} | ${escape(row.verified)} |`);
console.log(`\n${rows.filter((r) => r.result === 'pass').length} passed, ${rows.filter((r) => r.result !== 'pass').length} failed (tap exit code ${exitCode})`);
process.exit(exitCode === 0 && rows.every((r) => r.result === 'pass') ? 0 : 1);

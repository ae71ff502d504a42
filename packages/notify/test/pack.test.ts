import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeNotifyManager } from '../src/testing/index.js';
import { childEnv, collect, repoRoot } from './helpers.js';

const packageDir = join(repoRoot, 'packages', 'notify');
const prebuilt = 'prebuilds/linux-x64/notify.node';
const prebuilds = ['linux-x64', 'linux-arm64', 'linux-arm'].map((dir) => `prebuilds/${dir}/notify.node`);

/** A PATH with node, npm and a shell, and no compiler or make. */
function toolchainFreePath(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const npmCli = realpathSync(execFileSync('/bin/sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  const tools: Record<string, string> = { node: process.execPath, npm: npmCli, sh: '/bin/sh', env: '/usr/bin/env' };
  for (const [name, target] of Object.entries(tools)) symlinkSync(target, join(bin, name));
  return bin;
}

test('success: the packed package installs with --ignore-scripts and no compiler on PATH, and ready() reaches a receiver from require() and import', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(join(packageDir, 'dist', 'index.js')) && existsSync(join(packageDir, prebuilt)), 'build the package first (pnpm --filter @node-systemd/notify build)');
  const dir = mkdtempSync(join(tmpdir(), 'nsd-pack-'));
  const manager = await FakeNotifyManager.start();
  try {
    // Pack what `pnpm build` produced (prepack would rebuild dist under other running tests).
    execFileSync('pnpm', ['pack', '--config.ignore-scripts=true', '--pack-destination', dir], { cwd: packageDir, stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const listing = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' }).split('\n');
    for (const file of prebuilds) assert.ok(listing.includes(`package/${file}`), `the tarball carries ${file} (node scripts/prebuild.cjs --toolchain builds all three)`);
    assert.ok(listing.includes('package/dist/index.mjs') && listing.includes('package/dist/testing/index.mjs'), 'and the ESM wrappers');
    assert.ok(!listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')), 'but not the sources or tests');

    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true }));
    const PATH = toolchainFreePath(dir);
    const env = childEnv({ PATH, HOME: dir, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false' });
    for (const tool of ['gcc', 'g++', 'cc', 'make', 'python3']) {
      const found = execFileSync('/bin/sh', ['-c', `command -v ${tool} || echo absent`], { env, encoding: 'utf8' }).trim();
      assert.equal(found, 'absent', `${tool} must not be on the test PATH`);
    }
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: app, env, stdio: 'pipe', timeout: 120_000 });
    const installed = join(app, 'node_modules', '@node-systemd', 'notify');
    assert.ok(existsSync(join(installed, prebuilt)));
    assert.ok(!existsSync(join(installed, 'build')), 'nothing was compiled');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    assert.equal(manifest.scripts?.install, undefined, 'no install script to run or to be blocked');
    assert.equal(manifest.os, undefined, 'no platform lock');
    assert.ok(!existsSync(join(installed, 'binding.gyp')), 'no binding.gyp, which npm would build with node-gyp on its own');

    writeFileSync(join(app, 'cjs.cjs'), [
      "const notify = require('@node-systemd/notify');",
      "notify.ready('from require').then((sent) => console.log(JSON.stringify({ sent })));",
    ].join('\n'));
    writeFileSync(join(app, 'esm.mjs'), [
      "import { createRequire } from 'node:module';",
      "import * as notify from '@node-systemd/notify';",
      "import { FakeNotifyManager } from '@node-systemd/notify/testing';",
      "const required = createRequire(import.meta.url)('@node-systemd/notify');",
      'const same = notify.defaultNotifier() === required.defaultNotifier() && notify.NotifyError === required.NotifyError;',
      "const sent = await notify.status('from import');",
      "console.log(JSON.stringify({ sent, same, testing: typeof FakeNotifyManager.start }));",
    ].join('\n'));
    for (const [script, status] of [['cjs.cjs', 'from require'], ['esm.mjs', 'from import']] as const) {
      const child = spawn('node', [script], { cwd: app, env: { ...env, NOTIFY_SOCKET: manager.socket }, stdio: ['ignore', 'pipe', 'pipe'] });
      const result = await collect(child);
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.sent, true);
      if (script === 'esm.mjs') {
        assert.equal(report.same, true, 'import and require share one instance');
        assert.equal(report.testing, 'function');
      }
      const message = await manager.waitFor('STATUS', { value: status });
      assert.equal(message.pid, child.pid);
      if (script === 'cjs.cjs') assert.equal(message.fields.READY, '1');
    }

    // Without a binary that fits: off systemd nothing changes; under systemd the
    // first message fails loudly, naming the target and the fix.
    rmSync(join(installed, 'prebuilds'), { recursive: true });
    writeFileSync(join(app, 'missing.cjs'), [
      "const notify = require('@node-systemd/notify');",
      "notify.ready().then((sent) => console.log(JSON.stringify({ sent })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));",
    ].join('\n'));
    const off = await collect(spawn('node', ['missing.cjs'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.deepEqual(JSON.parse(off.stdout), { sent: false });
    const on = await collect(spawn('node', ['missing.cjs'], { cwd: app, env: { ...env, NOTIFY_SOCKET: manager.socket }, stdio: ['ignore', 'pipe', 'pipe'] }));
    const failure = JSON.parse(on.stdout);
    assert.equal(failure.code, 'ERR_NOTIFY_NATIVE_UNAVAILABLE');
    assert.match(failure.message, /linux-x64 glibc 2\.\d+, Node v/);
    assert.match(failure.message, /linux-x64\/notify\.node \(missing\)/);
    assert.match(failure.message, /build-native\.cjs/);

    // Through the lifecycle: reported once, synchronously at start-up (before any
    // listen or READY), and not again when ready() then fails the same way.
    writeFileSync(join(app, 'lifecycle.cjs'), [
      "const { createLifecycle } = require('@node-systemd/notify');",
      "const { createServer } = require('node:http');",
      'const errors = [];',
      'const lifecycle = createLifecycle({ handleSignals: false, onError: (error) => errors.push(error.code) });',
      'const atStart = errors.length;',
      'const server = createServer();',
      "lifecycle.listen(server, { port: 0, host: '127.0.0.1' }).then(() => lifecycle.ready()).then(() => {",
      '  console.log(JSON.stringify({ atStart, errors }));',
      '  lifecycle.dispose();',
      '  server.close();',
      '});',
    ].join('\n'));
    const once = await collect(spawn('node', ['lifecycle.cjs'], { cwd: app, env: { ...env, NOTIFY_SOCKET: manager.socket }, stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(JSON.parse(once.stdout), { atStart: 1, errors: ['ERR_NOTIFY_NATIVE_UNAVAILABLE'] });
    // With the default onError it is a process warning on stderr (what journalctl shows).
    writeFileSync(join(app, 'default.cjs'), "const l = require('@node-systemd/notify').createLifecycle({ handleSignals: false, watchdog: false }); l.dispose();");
    const warned = await collect(spawn('node', ['default.cjs'], { cwd: app, env: { ...env, NOTIFY_SOCKET: manager.socket }, stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /^\(node:\d+\) \[ERR_NOTIFY_NATIVE_UNAVAILABLE\] NotifyError: @node-systemd\/notify cannot load its native transport on linux-x64 glibc 2\.\d+, Node v/m);
    assert.equal(warned.stderr.match(/cannot load its native transport/g)?.length, 1, 'once');
    assert.match(failure.message, /Fix:/);
  } finally {
    manager.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

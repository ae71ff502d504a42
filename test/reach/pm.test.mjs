// Every package manager, as a user runs it: in a fresh folder, with no C compiler,
// make or python on PATH and an empty HOME, install the packed tarballs of the four
// packages (and fastify from the registry) with npm, pnpm 10, yarn 4 (through
// corepack, default Plug'n'Play install) and bun. No flag: each runs with its own
// defaults (pnpm 10 and bun run no dependency scripts; there are none to run).
// Then ready() reaches a fake manager, and a Fastify app under the plugin sends
// READY, serves, drains on SIGTERM (STOPPING) and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeNotifyManager } from '../../packages/notify/dist/testing/index.mjs';
import { PACKAGES, cacheDir, cleanEnv, npmInstalled, packWorkspace, root, run } from './lib.mjs';

const FASTIFY = '5.12.8';
const PNPM = '10.20.0';
const YARN = '4.18.1';
export const BUN = '1.4.5';

const tarballs = packWorkspace(path.join(cacheDir, 'packed-pm'));
const work = mkdtempSync(path.join(tmpdir(), 'nsd-pm-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** A bin dir with node, the package manager and a shell: no cc, gcc, make or python3. */
function toolchainFreePath(dir, tools) {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, target] of Object.entries({ node: process.execPath, sh: '/bin/sh', env: '/usr/bin/env', ...tools })) symlinkSync(target, path.join(bin, name));
  for (const tool of ['cc', 'gcc', 'g++', 'make', 'python3']) {
    const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } });
    assert.notEqual(found.status, 0, `${tool} must not be on the test PATH`);
  }
  return bin;
}

const which = (name) => realpathSync(execFileSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim());

/** Each package manager: the tools it needs and how it installs the tarballs. */
const MANAGERS = {
  npm: {
    tools: () => ({ npm: which('npm') }),
    install: (deps) => ['npm', ['install', '--no-audit', '--no-fund', ...deps]],
  },
  'pnpm 10': {
    tools: () => ({ corepack: which('corepack') }),
    manifest: { packageManager: `pnpm@${PNPM}` },
    install: (deps) => ['corepack', ['pnpm', 'add', ...deps]],
  },
  'yarn 4': {
    tools: () => ({ corepack: which('corepack') }),
    manifest: { packageManager: `yarn@${YARN}` },
    install: (deps) => ['corepack', ['yarn', 'add', ...deps.map((d) => (d.endsWith('.tgz') ? `${JSON.parse(execFileSync('tar', ['-xzOf', d, 'package/package.json'])).name}@file:${d}` : d))]],
    run: (script) => ['corepack', ['yarn', 'node', script]],
  },
  bun: {
    tools: () => ({ bun: realpathSync(npmInstalled('bun', BUN)) }),
    install: (deps) => ['bun', ['add', ...deps]],
  },
};

const READY = `
const notify = require('@node-systemd/notify');
notify.ready('installed').then((sent) => console.log(JSON.stringify({ sent, addons: Object.keys(require.cache).filter((f) => f.endsWith('.node')) })));
`;
const APP = `
const Fastify = require('fastify');
const systemd = require('@node-systemd/fastify');
async function main() {
  const app = Fastify({ return503OnClosing: false });
  await app.register(systemd, { watchdog: false });
  app.get('/', async () => 'hello');
  await app.systemd.listen({ port: 0, host: '127.0.0.1' });
}
main();
`;

function get(url) {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

for (const [name, manager] of Object.entries(MANAGERS)) {
  test(`${name}: installs the four packed packages with no compiler and no flag; ready() reaches the manager; a Fastify app sends READY, serves and drains on SIGTERM`, { timeout: 600_000 }, async () => {
    const dir = path.join(work, name.replace(/\W/g, '-'));
    const app = path.join(dir, 'app');
    const home = path.join(dir, 'home');
    mkdirSync(app, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pm-check', version: '1.0.0', private: true, ...manager.manifest }));
    const bin = toolchainFreePath(dir, manager.tools());
    // This machine's settings (CA bundle, proxy) stay; npm/pnpm settings of the
    // workspace do not, and HOME is empty (no ~/.npmrc).
    const inherited = Object.fromEntries(Object.entries(cleanEnv()).filter(([key]) => !/^(npm_|pnpm_|PNPM_|COREPACK_|YARN_|BUN_)/i.test(key)));
    const env = {
      ...inherited,
      PATH: bin,
      HOME: home,
      // Caches outside HOME so reruns are fast; corepack fetches pnpm and yarn from npm.
      COREPACK_HOME: path.join(cacheDir, 'corepack'),
      COREPACK_NPM_REGISTRY: 'https://registry.npmjs.org',
      COREPACK_INTEGRITY_KEYS: '0',
      COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
      npm_config_cache: path.join(cacheDir, 'npm-cache'),
      npm_config_store_dir: path.join(cacheDir, 'pnpm-store'),
      YARN_GLOBAL_FOLDER: path.join(cacheDir, 'yarn-global'),
      YARN_ENABLE_TELEMETRY: '0',
      BUN_INSTALL_CACHE_DIR: path.join(cacheDir, 'bun-cache'),
      npm_config_update_notifier: 'false',
    };
    const deps = [...PACKAGES.map((p) => tarballs[p]), `fastify@${FASTIFY}`];
    const [command, args] = manager.install(deps);
    const installed = await run(command, args, { cwd: app, env, timeoutMs: 480_000 });
    const output = installed.stdout + installed.stderr;
    assert.equal(installed.code, 0, `${command} ${args.join(' ')}:\n${output}`);
    assert.doesNotMatch(output, /gyp|EBADPLATFORM|Ignored build scripts|postinstall|Blocked/i, 'no build, no platform refusal, no blocked script');
    const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
    for (const p of PACKAGES) assert.ok(manifest.dependencies[`@node-systemd/${p}`], `@node-systemd/${p} is a dependency`);

    writeFileSync(path.join(app, 'ready.cjs'), READY);
    writeFileSync(path.join(app, 'app.cjs'), APP);
    const node = (script) => manager.run?.(script) ?? ['node', [script]];
    const managerSocket = await FakeNotifyManager.start();
    try {
      const [cmd, cmdArgs] = node('ready.cjs');
      const sent = await run(cmd, cmdArgs, { cwd: app, env: { ...env, NOTIFY_SOCKET: managerSocket.socket } });
      assert.equal(sent.code, 0, sent.stderr);
      const report = JSON.parse(sent.stdout.trim().split('\n').pop());
      assert.equal(report.sent, true);
      assert.equal(report.addons.length, 1);
      assert.match(report.addons[0], /prebuilds\/linux-x64\/notify\.node$/);
      const ready = await managerSocket.waitFor('READY');
      assert.equal(ready.fields.STATUS, 'installed');
    } finally {
      managerSocket.close();
    }

    const fastifyManager = await FakeNotifyManager.start();
    const [cmd, cmdArgs] = node('app.cjs');
    const child = spawn(cmd, cmdArgs, { cwd: app, env: { ...env, NOTIFY_SOCKET: fastifyManager.socket }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const ready = await Promise.race([
        fastifyManager.waitFor('READY', { timeoutMs: 60_000 }),
        exited.then((how) => assert.fail(`the app exited before READY: ${JSON.stringify(how)}\n${stderr}`)),
      ]);
      assert.match(ready.fields.STATUS ?? '', /127\.0\.0\.1:\d+/);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(ready.fields.STATUS)[1]);
      assert.equal(await get(`http://127.0.0.1:${port}/`), 'hello');
      child.kill('SIGTERM');
      await fastifyManager.waitFor('STOPPING');
      assert.deepEqual(await exited, { code: 0, signal: null }, stderr);
    } finally {
      child.kill('SIGKILL');
      fastifyManager.close();
    }
  });
}

test('npm as on macOS (process.platform reported as darwin): installs the four packed packages; ready() resolves false and nothing native loads', { timeout: 600_000 }, async () => {
  const dir = path.join(work, 'npm-darwin');
  const app = path.join(dir, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pm-darwin', version: '1.0.0', private: true }));
  const preload = path.join(root, 'packages', 'notify', 'test', 'fixtures', 'as-darwin.cjs');
  const inherited = Object.fromEntries(Object.entries(cleanEnv()).filter(([key]) => !/^npm_/i.test(key)));
  // `npm --os darwin` does not change npm's EBADPLATFORM check; the preload does,
  // for npm itself and for the app it then runs.
  const env = { ...inherited, HOME: path.join(dir, 'home'), NODE_OPTIONS: `--require ${preload}`, npm_config_cache: path.join(cacheDir, 'npm-cache') };
  mkdirSync(env.HOME);
  const probe = await run('node', ['-p', 'process.platform'], { env });
  assert.equal(probe.stdout.trim(), 'darwin');
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', ...PACKAGES.map((p) => tarballs[p]), `fastify@${FASTIFY}`], { cwd: app, env, timeoutMs: 480_000 });
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);
  assert.doesNotMatch(installed.stdout + installed.stderr, /EBADPLATFORM/);
  writeFileSync(path.join(app, 'ready.cjs'), `
const notify = require('@node-systemd/notify');
const systemd = require('@node-systemd/fastify');
Promise.all([notify.ready(), notify.status('x'), notify.watchdogPing()]).then((sent) =>
  console.log(JSON.stringify({ platform: process.platform, sent, plugin: typeof systemd, nativeLoads: globalThis.__nativeLoads })));
`);
  const result = await run('node', ['ready.cjs'], { cwd: app, env });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { platform: 'darwin', sent: [false, false, false], plugin: 'function', nativeLoads: [] });
});

// Bun and Deno (from the npm packages `bun` and `deno`, pinned) run the packed
// core with the same prebuilt addon Node loads, against the fake manager:
// ready(), status(), the watchdog, listenFds() of a socket passed the way systemd
// passes it, and the lifecycle's drain on SIGTERM (STOPPING=1, the request in
// flight answered, exit 0). What each runtime does with `server.listen({ fd })` is
// recorded, not assumed: Bun binds a new socket instead of the passed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeNotifyManager, spawnWithListenFds } from '../../packages/notify/dist/testing/index.mjs';
import { PACKAGES, cacheDir, cleanEnv, npmInstalled, packWorkspace, run } from './lib.mjs';

const BUN = '1.4.5';
const DENO = '2.9.6';

const CHILD = `
const notify = require('@node-systemd/notify');
const { createServer } = require('node:http');
async function main() {
  const report = { runtime: typeof Bun !== 'undefined' ? 'bun ' + Bun.version : typeof Deno !== 'undefined' ? 'deno ' + Deno.version.deno : 'node' };
  report.fds = notify.listenFds().map((f) => f.name);
  report.status = await notify.status('runtime up');
  const lifecycle = notify.createLifecycle({ watchdog: { intervalMs: 50 }, exitProcess: (code) => { console.log(JSON.stringify({ exit: code })); process.exit(code); } });
  report.watchdog = lifecycle.watchdog.enabled;
  const server = createServer((req, res) => {
    if (req.url === '/slow') lifecycle.once('draining', () => setImmediate(() => res.end('drained')));
    else res.end('ok');
    console.log(JSON.stringify({ request: req.url }));
  });
  await lifecycle.listen(server, { port: 0, host: '127.0.0.1' });
  await lifecycle.ready();
  report.port = server.address().port;
  report.addons = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
  console.log(JSON.stringify(report));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

const RUNTIMES = [
  { name: `Bun ${BUN}`, pkg: 'bun', version: BUN, args: (script) => [script] },
  { name: `Deno ${DENO}`, pkg: 'deno', version: DENO, args: (script) => ['run', '--allow-all', script] },
];

const work = mkdtempSync(path.join(tmpdir(), 'nsd-runtimes-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** An app dir with the packed packages installed by npm (Deno and Bun read node_modules). */
async function appDir() {
  const app = path.join(work, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'runtimes-check', private: true }));
  const tarballs = packWorkspace(path.join(cacheDir, 'packed-runtimes'));
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', ...PACKAGES.map((p) => tarballs[p])], { cwd: app, env: cleanEnv({ npm_config_cache: path.join(cacheDir, 'npm-cache') }) });
  assert.equal(installed.code, 0, installed.stderr);
  writeFileSync(path.join(app, 'child.cjs'), CHILD);
  return app;
}

let app;
for (const runtime of RUNTIMES) {
  test(`${runtime.name}: ready(), status(), the watchdog, listenFds() and the lifecycle's drain reach the fake manager through the prebuilt addon`, { timeout: 600_000 }, async () => {
    app ??= await appDir();
    const binary = npmInstalled(runtime.pkg, runtime.version);
    const manager = await FakeNotifyManager.start();
    // The socket systemd would pass (FileDescriptorName=http), listening on 127.0.0.1.
    const passed = createServer();
    passed.listen(0, '127.0.0.1');
    await once(passed, 'listening');
    const passedPort = passed.address().port;
    const child = spawnWithListenFds(binary, runtime.args('child.cjs'), [{ fd: passed._handle.fd, fdName: 'http' }], {
      cwd: app,
      env: cleanEnv({ ...manager.env(), WATCHDOG_USEC: '2000000', DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(cacheDir, 'deno-dir') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The child has its own copy now; this process must not accept on it too.
    passed.close();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    const exited = once(child, 'exit');
    try {
      const ready = await Promise.race([manager.waitFor('READY', { timeoutMs: 60_000 }), exited.then(() => assert.fail(`exited before READY:\n${stderr}`))]);
      assert.equal(ready.pid, child.pid, 'sent by the runtime process itself (SCM_CREDENTIALS)');
      await manager.waitFor('STATUS', { value: 'runtime up' });
      await manager.waitFor('WATCHDOG');
      // Complete lines only: a chunk may end mid-line.
      const lines = () => stdout.split('\n').slice(0, -1).filter(Boolean).map((l) => JSON.parse(l));
      // The report is printed once ready() resolved, which may be after READY arrived.
      while (!lines().some((l) => 'port' in l)) await once(child.stdout, 'data');
      const report = lines().find((l) => 'port' in l);
      assert.ok(report, stdout);
      assert.match(report.runtime, new RegExp(`^${runtime.pkg} ${runtime.version.replace(/\./g, '\\.')}`));
      assert.deepEqual(report.fds, ['http'], 'listenFds() sees the passed socket');
      assert.equal(report.status, true);
      assert.equal(report.watchdog, true);
      assert.equal(report.addons.length, 1);
      assert.match(report.addons[0], /prebuilds\/linux-x64\/notify\.node$/);
      const onPassedSocket = report.port === passedPort;
      console.log(`# ${runtime.name}: server.listen({ fd }) ${onPassedSocket ? 'serves the passed socket' : `bound a new socket (port ${report.port}, the passed one is ${passedPort})`}`);

      // A request in flight when SIGTERM comes is answered, STOPPING=1 goes out, exit 0.
      const body = new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port: report.port, path: '/slow' }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => resolve(text));
        }).on('error', reject).end();
      });
      while (!lines().some((l) => l.request === '/slow')) await once(child.stdout, 'data');
      child.kill('SIGTERM');
      await manager.waitFor('STOPPING');
      assert.equal(await body, 'drained');
      const [code] = await exited;
      assert.equal(code, 0, stderr);
      assert.deepEqual(lines().find((l) => 'exit' in l), { exit: 0 });
    } finally {
      child.kill('SIGKILL');
      manager.close();
    }
  });
}

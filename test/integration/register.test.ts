// Zero-code mode: unmodified apps (fixtures/habits) started with
// `node --import @node-systemd/notify/register` (or --require) under the real
// systemd-socket-activate, a FakeNotifyManager as NOTIFY_SOCKET. Each listens the
// way its framework's users do (`listen(port)`, `app.listen({ port })`,
// `serve({ fetch, port })`) on the port systemd already holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeNotifyManager, spawnWithListenFds } from '@node-systemd/notify/testing';
import { hello, lifecycleOrder, listeningSockets, startApp, startLoadClient, type App, type StartOptions } from './harness.js';

const habits = join(__dirname, 'fixtures', 'habits');
const IMPORT = ['--import', '@node-systemd/notify/register'];
const REQUIRE = ['--require', '@node-systemd/notify/register'];
const IDLE = 20;
const IN_FLIGHT = 10;

interface Reply {
  status?: number;
  connection?: string;
  error?: string;
}

function start(script: string, nodeArgs: string[], env: Record<string, string> = {}, options: StartOptions = {}, transport: 'activate-tcp' | 'activate-unix' = 'activate-tcp'): Promise<App> {
  // The FRAMEWORK variable only matters to fixtures/app.cjs; the habit apps ignore it.
  return startApp('http', transport, env, { script: join(habits, script), nodeArgs, cwd: habits, ...options });
}

/** READY with the passed socket, served on it (no socket of its own), SIGTERM with requests in flight: none fails, exit 0. */
async function servesAndDrains(script: string, nodeArgs: string[], transport: 'activate-tcp' | 'activate-unix' = 'activate-tcp'): Promise<void> {
  const app = await start(script, nodeArgs, {}, {}, transport);
  const client = await startLoadClient(app.target);
  try {
    assert.match(app.readyStatus, /socket-activated fd 3 "http"/);
    // Fastify's "localhost" also binds ::1 with a second server; every other app has exactly the passed socket.
    if (!script.startsWith('fastify')) assert.equal(listeningSockets(app.child.pid!), 1, 'no socket of its own next to the passed one');
    const idle = await client.call<{ failed: number; replies: number }>('idle', { n: IDLE });
    assert.deepEqual({ failed: idle.failed, replies: idle.replies }, { failed: 0, replies: IDLE });
    const done = client.next<{ replies: Reply[] }>('inflight-done');
    await client.call('inflight', { n: IN_FLIGHT, path: `/slow?ms=400&group=${IN_FLIGHT}` });
    await app.waitLine(`slow ${IN_FLIGHT}`);
    app.child.kill('SIGTERM');
    const { replies } = await done;
    const exit = await app.exited;
    assert.deepEqual(
      replies.filter((reply) => reply.error !== undefined || reply.status !== 200),
      [],
      'no in-flight request failed',
    );
    assert.deepEqual(replies.map((reply) => reply.connection), new Array(IN_FLIGHT).fill('close'), 'in-flight responses said Connection: close');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    const order = lifecycleOrder(app.manager);
    assert.ok(order.ready >= 0 && order.ready < order.stopping && order.stopping < order.drained, order.all);
  } finally {
    client.stop();
    app.stop();
  }
}

const apps: Array<[string, string, string[]]> = [
  ['node:http createServer().listen(port)', 'http.cjs', IMPORT],
  ['Express 5 app.listen(port)', 'express.cjs', IMPORT],
  ['Koa 3 app.listen(port)', 'koa.cjs', IMPORT],
  ['Fastify 5 app.listen({ port }) without the plugin', 'fastify.cjs', IMPORT],
  ['Hono serve({ fetch, port }) (ESM app)', 'hono.mjs', IMPORT],
  ['NestJS 12 (Express platform) app.listen(port) (ESM app)', 'nest.mjs', IMPORT],
  ['node:http CommonJS app with --require', 'http.cjs', REQUIRE],
];
for (const [label, script, nodeArgs] of apps) {
  test(`register: ${label} is socket-activated: READY on the passed fd, served there, SIGTERM drains with 0 failed, exit 0`, { timeout: 60_000 }, () =>
    servesAndDrains(script, nodeArgs),
  );
}

test('register: node:http listen(path) on the unix socket systemd passed (ListenStream=/path) takes the passed fd, drains with 0 failed', { timeout: 60_000 }, () =>
  servesAndDrains('unix.cjs', IMPORT, 'activate-unix'),
);

test('Fastify plugin, no register: app.listen({ port, host }) takes the passed socket and drains with 0 failed', { timeout: 60_000 }, () =>
  servesAndDrains('fastify-plugin.cjs', []),
);

test('register + the Fastify plugin: the plugin\'s lifecycle takes over (one READY=1, one drain), the app serves on the passed socket', { timeout: 60_000 }, async () => {
  const app = await start('fastify-plugin.cjs', IMPORT);
  try {
    assert.match(app.readyStatus, /socket-activated fd 3 "http"/);
    assert.equal(await hello((app.target as { port: number }).port), 'Hello World!');
    app.child.kill('SIGTERM');
    assert.deepEqual({ code: (await app.exited).code }, { code: 0 });
    app.manager.drainQueue();
    const fields = app.manager.messages.map((message) => message.fields);
    assert.equal(fields.filter((f) => f.READY === '1').length, 1, JSON.stringify(fields));
    assert.equal(fields.filter((f) => f.STOPPING === '1').length, 1, JSON.stringify(fields));
    assert.equal(fields.filter((f) => f.STATUS === 'drained').length, 1, JSON.stringify(fields));
  } finally {
    app.stop();
  }
});

test('register: listen({ port, exclusive: true }) on the passed address: a warning naming fd 3 "http" and the fix, before EADDRINUSE', { timeout: 30_000 }, async () => {
  const app = await start('exclusive.cjs', IMPORT, {}, { waitReady: false, knock: 'connect' });
  try {
    const warning = await app.waitError(/NODE_SYSTEMD_PASSED_SOCKET/);
    assert.match(warning, /exclusive: true.*fd 3 "http" \(127\.0\.0\.1:\d+\).*EADDRINUSE.*Fix: drop `exclusive: true`/);
    const crash = await app.waitError(/^Error: listen EADDRINUSE/);
    assert.ok(app.errors.indexOf(warning) < app.errors.indexOf(crash), 'the warning came before the crash');
    assert.notEqual((await app.exited).code, 0);
    assert.equal(app.manager.messages.some((message) => message.fields.READY === '1'), false);
  } finally {
    app.stop();
  }
});

test('register: the passed port on another host: a warning naming the fd and the fix, then the unused-socket warning', { timeout: 30_000 }, async () => {
  const app = await start('other-host.cjs', IMPORT, { HOST: '127.0.0.2', NODE_SYSTEMD_UNUSED_WARNING_MS: '1000' }, { waitReady: false, knock: 'connect' });
  try {
    const warning = await app.waitError(/NODE_SYSTEMD_PASSED_SOCKET/);
    assert.match(warning, /listen\(127\.0\.0\.2:\d+\) binds a socket of its own: systemd passed fd 3 "http" \(127\.0\.0\.1:\d+\).*Fix:/);
    const unused = await app.waitError(/NODE_SYSTEMD_UNUSED_SOCKET/);
    assert.match(unused, /fd 3 "http".*no server listened on it.*The app listens on 127\.0\.0\.2:\d+.*Fix: listen on port \d+/);
    // The app serves on its own socket, so it is ready after the warning; STATUS says where.
    const ready = await app.manager.waitFor('READY');
    assert.match(ready.fields.STATUS ?? '', /listening on 127\.0\.0\.2:/);
  } finally {
    app.stop();
  }
});

test('register: with WATCHDOG_USEC the unmodified app pings the watchdog (WATCHDOG=1 from its own pid)', { timeout: 30_000 }, async () => {
  const app = await start('http.cjs', IMPORT, { WATCHDOG_USEC: '400000' });
  try {
    const ping = await app.manager.waitFor((message) => message.fields.WATCHDOG === '1');
    assert.equal(ping.pid, app.child.pid);
  } finally {
    app.stop();
  }
});

test('register: NODE_SYSTEMD_FDSTORE=1 stores the socket the app bound; after a restart the same listen(port) takes it back from the store', { timeout: 60_000 }, async () => {
  const first = await startApp('http', 'port', { NODE_SYSTEMD_FDSTORE: '1' }, { script: join(habits, 'http.cjs'), nodeArgs: IMPORT, cwd: habits });
  const manager = await FakeNotifyManager.start();
  let second: ReturnType<typeof spawnWithListenFds> | undefined;
  try {
    const stored = await first.manager.waitFor((message) => message.fields.FDSTORE === '1');
    assert.equal(stored.fields.FDNAME, 'http');
    assert.equal(stored.fds.length, 1);
    const ready = await first.manager.waitFor('READY');
    assert.ok(first.manager.messages.indexOf(stored) < first.manager.messages.indexOf(ready), 'stored before READY=1');
    const port = (first.target as { port: number }).port;
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);
    // The restart: the stored fd comes back as fd 3 "http"; the app still says listen(PORT).
    second = spawnWithListenFds(process.execPath, [...IMPORT, join(habits, 'http.cjs')], [{ fd: stored.fds[0]!, fdName: 'http' }], {
      cwd: habits,
      env: { ...process.env, ...manager.env(), PORT: String(port), NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const again = await manager.waitFor('READY', { timeoutMs: 20_000 });
    assert.equal(again.pid, second.pid);
    assert.match(again.fields.STATUS ?? '', new RegExp(`:${port} \\(socket-activated fd 3 "http"\\)$`));
    assert.equal(await hello(port), 'Hello World!');
  } finally {
    second?.kill('SIGKILL');
    manager.close();
    first.stop();
  }
});

test('register: off systemd it does nothing (no NOTIFY_SOCKET, no LISTEN_FDS): listen() unpatched, no native addon loaded', { timeout: 30_000 }, async () => {
  const { spawnSync } = await import('node:child_process');
  const probe = [
    "const net = require('node:net');",
    'const listen = net.Server.prototype.listen;',
    "require('@node-systemd/notify/register');",
    'const loaded = Object.keys(require.cache).filter((file) => file.includes("@node-systemd") || file.includes("packages/notify"));',
    'console.log(JSON.stringify({ same: net.Server.prototype.listen === listen, loaded, native: loaded.some((f) => f.endsWith(".node")), handles: process.getActiveResourcesInfo().filter((r) => r === "Timeout") }));',
  ].join('\n');
  const env = { ...process.env };
  for (const name of ['NOTIFY_SOCKET', 'LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'WATCHDOG_USEC']) delete env[name];
  const result = spawnSync(process.execPath, ['-e', probe], { cwd: habits, env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const seen = JSON.parse(result.stdout) as { same: boolean; loaded: string[]; native: boolean; handles: string[] };
  assert.equal(seen.same, true, 'listen() is the original');
  assert.equal(seen.native, false, 'no native addon loaded');
  assert.deepEqual(seen.handles, [], 'no timer');
  assert.deepEqual(seen.loaded.map((file) => file.replace(/.*\/dist\//, 'dist/')), ['dist/register/index.js'], 'only the tiny entry was loaded');
});

import { test } from 'node:test';
import { join } from 'node:path';
import { BAD_FD_NAMES, bodyFromNamedSocket, isFdNameRefusal } from '../../../test/helpers/fd-name.js';
import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import dns from 'node:dns';
import Fastify from 'fastify';
import { Notifier, createLifecycle } from '@node-systemd/notify';
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import systemd from '../src/index.js';

async function get(port: number, path: string, agent: Agent): Promise<{ status: number; connection: string | undefined; body: string }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => request({ host: '127.0.0.1', port, path, agent }, resolve).on('error', reject).end());
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, connection: res.headers.connection, body };
}

async function setup() {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  // keepAliveTimeout of 10 minutes: a close() that waited it out would time the test out.
  const app = Fastify({ keepAliveTimeout: 600_000 });
  await app.register(systemd, { notifier, handleSignals: false, watchdog: false });
  app.get('/', async () => 'Hello World!');
  app.get('/slow', async () => new Promise((resolve) => setTimeout(() => resolve('slow'), 400)));
  return { manager, notifier, app };
}

test('success: READY=1 in onListen, with STATUS= naming the address; app.systemd is decorated', async () => {
  const { manager, notifier, app } = await setup();
  try {
    assert.equal(app.systemd.state, 'starting');
    await app.systemd.listen({ port: 0, host: '127.0.0.1' });
    const ready = await manager.waitFor('READY');
    assert.equal(ready.fields.STATUS, `listening on 127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    assert.equal(app.systemd.state, 'ready');
    assert.equal(app.systemd.isAcceptingTraffic(), true);
    assert.equal(await app.systemd.status('busy'), true);
    await manager.waitFor('STATUS', { value: 'busy' });
  } finally {
    await app.close();
    notifier.close();
    manager.close();
  }
});

test('regression fastify#7044: close() neither waits out keepAliveTimeout nor destroys in-flight requests', { timeout: 20_000 }, async () => {
  const { manager, notifier, app } = await setup();
  try {
    await app.systemd.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const idle = new Agent({ keepAlive: true });
    assert.equal((await get(port, '/', idle)).connection, 'keep-alive');
    const inFlight = get(port, '/slow', new Agent({ keepAlive: true }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.close();
    const reply = await inFlight;
    assert.deepEqual(reply, { status: 200, connection: 'close', body: 'slow' });
    const fields = manager.messages.map((m) => m.fields);
    const ready = fields.findIndex((f) => f.READY === '1');
    const stopping = fields.findIndex((f) => f.STOPPING === '1' && f.STATUS === 'draining');
    const drained = fields.findIndex((f) => f.STATUS === 'drained');
    assert.ok(ready >= 0 && ready < stopping && stopping < drained, JSON.stringify(fields));
    assert.equal(app.systemd.state, 'drained');
    idle.destroy();
  } finally {
    notifier.close();
    manager.close();
  }
});

test('failure: bad options fail at register time with a full sentence', async () => {
  for (const [options, message] of [
    [{ fdName: 'a:b' }, /fdName option must be a FileDescriptorName= of 1 to 255 printable ASCII characters without ":", got "a:b"/],
    [{ gracePeriodMs: 'soon' }, /gracePeriodMs option must be a number of milliseconds/],
    [{ lifecycle: {} }, /lifecycle option must be a Lifecycle/],
  ] as const) {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(systemd, { ...(options as object), handleSignals: false });
      await app.ready();
    }, (error: Error & { code?: string }) => error.code === 'ERR_NOTIFY_INVALID_OPTION' && message.test(error.message));
  }
});

test('success: the package exports the plugin to require() and import', async () => {
  const required = require('@node-systemd/fastify') as { default: unknown; systemd: unknown };
  assert.equal(typeof required.default, 'function');
  assert.equal(required.default, required.systemd);
  const imported = (await import('@node-systemd/fastify')) as { default: unknown };
  assert.equal(imported.default, required.default, 'ESM and CommonJS share one instance');
});

const CHILD = `(async () => {
  const app = require('fastify')();
  await app.register(require('@node-systemd/fastify').default, { watchdog: false });
  app.get('/', async () => 'Hello World!');
  console.log('at ' + (await app.systemd.listen({ fd: 3 })));
})()`;

test('success: app.systemd.listen({ fd }) serves on an inherited unix-socket fd (Node reports no address for it)', { timeout: 20_000 }, async () => {
  const { spawn } = await import('node:child_process');
  const { createServer, connect } = await import('node:net');
  const { join } = await import('node:path');
  const { serverFd } = await import('@node-systemd/notify');
  // An abstract name: closing our copy below must not unlink anything.
  const name = `nsd-fastify-test-${process.pid}`;
  const path = `\0${name}`;
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(path, resolve));
  const child = spawn(
    process.execPath,
    ['-e', CHILD],
    { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit', serverFd(holder)!], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  try {
    const line = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk).trim())));
    assert.equal(line, `at @${name}`);
    holder.close();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(path, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 200 OK[\s\S]*Hello World!$/);
  } finally {
    child.kill('SIGTERM');
    holder.close();
  }
});

test('failure: app.systemd.listen() with a bad fd is a typed error', async () => {
  const app = Fastify();
  await app.register(systemd, { handleSignals: false, watchdog: false });
  await assert.rejects(app.systemd.listen({ fd: -1 }), { code: 'ERR_NOTIFY_INVALID_OPTION', message: /needs fd to be a non-negative integer/ });
  await app.close();
});

test('failure: an onClose hook that throws is reported and the shutdown still ends drained', { timeout: 20_000 }, async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const errors: Error[] = [];
  const app = Fastify();
  await app.register(systemd, { notifier, handleSignals: false, watchdog: false, onError: (error) => errors.push(error) });
  app.addHook('onClose', async () => {
    throw new Error('the database pool would not close');
  });
  try {
    await app.systemd.listen({ port: 0, host: '127.0.0.1' });
    await app.systemd.shutdown('test');
    assert.equal(app.systemd.state, 'drained');
    assert.deepEqual(errors.map((error) => error.message), ['the database pool would not close']);
    assert.equal(manager.valuesOf('STATUS').at(-1), 'drained');
  } finally {
    notifier.close();
    manager.close();
  }
});

test('success: without a host Fastify listens on IPv4 and IPv6 localhost; both servers are drained (Connection: close in flight on each), READY names both', { timeout: 20_000 }, async () => {
  // Debian's /etc/hosts lists "::1 localhost" too; this machine's may not, so the
  // resolver answers as such a host would (Fastify asks dns.lookup for every address).
  const lookup = dns.lookup;
  (dns as { lookup: unknown }).lookup = (host: string, options: unknown, callback: (error: null, addresses: unknown) => void) =>
    host === 'localhost' && typeof callback === 'function'
      ? callback(null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }])
      : (lookup as (...args: unknown[]) => void)(host, options, callback);
  const { manager, notifier, app } = await setup();
  try {
    await app.listen({ port: 0 });
    const ready = await manager.waitFor('READY');
    const { port } = app.server.address() as AddressInfo;
    assert.match(ready.fields.STATUS!, /127\.0\.0\.1:\d+/);
    assert.match(ready.fields.STATUS!, /\[::1\]:\d+/);
    const slow = (host: string) =>
      new Promise<{ connection: string | undefined; body: string }>((resolve, reject) =>
        request({ host, port, path: '/slow', agent: new Agent({ keepAlive: true }) }, async (res) => {
          let body = '';
          for await (const chunk of res) body += String(chunk);
          resolve({ connection: res.headers.connection, body });
        }).on('error', reject).end(),
      );
    const v4 = slow('127.0.0.1');
    const v6 = slow('::1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.systemd.shutdown();
    assert.deepEqual(await Promise.all([v4, v6]), [{ connection: 'close', body: 'slow' }, { connection: 'close', body: 'slow' }]);
    assert.equal(app.systemd.lifecycle.forced, false);
  } finally {
    (dns as { lookup: unknown }).lookup = lookup;
    await app.close();
    notifier.close();
    manager.close();
  }
});

test('success: with Fastify\'s logger on, the lifecycle logs through app.log with NODE_SYSTEMD_EVENT', { timeout: 20_000 }, async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const lines: Array<Record<string, unknown>> = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  const app = Fastify({ logger: { level: 'info', stream } });
  await app.register(systemd, { notifier, handleSignals: false, watchdog: false });
  try {
    await app.systemd.listen({ port: 0, host: '127.0.0.1' });
    await app.systemd.shutdown();
    const events = lines.filter((line) => 'NODE_SYSTEMD_EVENT' in line);
    assert.deepEqual(events.map((line) => [line.level, line.NODE_SYSTEMD_EVENT]), [[30, 'drain-started'], [30, 'drained']]);
    assert.match(String(events[0]!.msg), /^Draining \(shutdown\): listeners closed/);
  } finally {
    await app.close();
    notifier.close();
    manager.close();
  }
});

test('failure: a bad fdName fails at register time, or with an attached lifecycle at listen(), with ERR_NOTIFY_INVALID_OPTION naming the rule', async () => {
  const lifecycle = createLifecycle({ handleSignals: false, watchdog: false });
  try {
    for (const fdName of BAD_FD_NAMES) {
      const app = Fastify();
      await assert.rejects(async () => {
        await app.register(systemd, { fdName: fdName as string, handleSignals: false, watchdog: false });
        await app.ready();
      }, isFdNameRefusal, String(fdName));
      const attached = Fastify();
      await attached.register(systemd, { fdName: fdName as string, lifecycle });
      await assert.rejects(attached.systemd.listen({ port: 0, host: '127.0.0.1' }), isFdNameRefusal, String(fdName));
      assert.equal(attached.server.listening, false);
    }
  } finally {
    lifecycle.dispose();
  }
});

test('success: app.systemd.listen() with fdName serves on the passed socket of that name among two (real socket activation)', { timeout: 30_000 }, async () => {
  const script = `(async () => {
  const app = require('fastify')();
  await app.register(require('@node-systemd/fastify').default, { fdName: 'web site', watchdog: false });
  app.get('/', async () => 'fastify');
  await app.systemd.listen({ port: 1 });
  console.log('ready');
})()`;
  assert.equal(await bodyFromNamedSocket(script, join(__dirname, '..')), 'fastify');
});

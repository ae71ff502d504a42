import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import {
  Notifier,
  createLifecycle,
  diagnose,
  isNotifyError,
  listenFd,
  listenOptions,
  removeStoredFds,
  serveHttp,
  serverFd,
  storeFds,
  storeServer,
  storedFds,
} from '../src/index.js';
import { FakeNotifyManager, spawnWithListenFds } from '../src/testing/index.js';
import { childEnv, firstJsonLine, fixture, getJson, nodeArgs, repoRoot } from './helpers.js';

/** Names systemd's FileDescriptorName= rule refuses, and what each breaks. */
const BAD: ReadonlyArray<readonly [unknown, string]> = [
  ['', 'empty'],
  ['web:1', 'a colon (the LISTEN_FDNAMES separator)'],
  ['x'.repeat(256), '256 characters'],
  ['tab\there', 'a control character'],
  ['del\x7f', 'DEL'],
  ['café', 'not ASCII'],
  [42, 'not a string'],
];
const GOOD = ['http', 'web site', 'x'.repeat(255), ' !"#$%&\'()*+,-./0123456789;<=>?@AZ[\\]^_`az{|}~'];

const invalidOption = (error: unknown): boolean =>
  isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION') && /FileDescriptorName= of 1 to 255 printable ASCII characters without ":"/.test((error as Error).message);

async function listeningServer(): Promise<Server> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('failure: every public entry that takes an fd name rejects a bad one with ERR_NOTIFY_INVALID_OPTION naming the rule, and sends nothing', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = await listeningServer();
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false, fdStore: true });
  try {
    for (const [bad, why] of BAD) {
      const name = bad as string;
      const label = `${why}: ${JSON.stringify(bad)}`;
      assert.throws(() => listenOptions({ fdName: name, port: 0 }), invalidOption, `listenOptions, ${label}`);
      assert.throws(() => listenFd(name), invalidOption, `listenFd, ${label}`);
      assert.throws(() => createLifecycle({ fdName: name, handleSignals: false, watchdog: false }), invalidOption, `createLifecycle, ${label}`);
      assert.throws(() => serveHttp(() => {}, { fdName: name, port: 0, handleSignals: false, watchdog: false }), invalidOption, `serveHttp, ${label}`);
      assert.throws(() => serveHttp(() => {}, { fdName: name, port: 0, lifecycle }), invalidOption, `serveHttp with a lifecycle, ${label}`);
      assert.throws(() => lifecycle.listenTarget(createServer(), { fdName: name, port: 0 }), invalidOption, `lifecycle.listenTarget, ${label}`);
      const unused = createServer();
      await assert.rejects(lifecycle.listen(unused, { fdName: name, port: 0, host: '127.0.0.1' }), invalidOption, `lifecycle.listen, ${label}`);
      assert.equal(unused.listening, false, 'nothing was bound');
      await assert.rejects(lifecycle.storeListener(server, name), invalidOption, `lifecycle.storeListener, ${label}`);
      await assert.rejects(storeFds([serverFd(server)!], { fdName: name, notifier }), invalidOption, `storeFds, ${label}`);
      await assert.rejects(storeServer(server, name, { notifier }), invalidOption, `storeServer, ${label}`);
      await assert.rejects(removeStoredFds(name, notifier), invalidOption, `removeStoredFds, ${label}`);
      assert.throws(() => storedFds(name), invalidOption, `storedFds, ${label}`);
      assert.throws(() => diagnose({ fdName: name, env: {} }), invalidOption, `diagnose, ${label}`);
      assert.throws(() => spawnWithListenFds('/bin/true', [], [{ fd: serverFd(server)!, fdName: name }]), invalidOption, `spawnWithListenFds, ${label}`);
      // The raw field is checked by the same rule, as a field (a number is sent as its digits).
      if (typeof bad === 'string') await assert.rejects(notifier.notify([['FDSTOREREMOVE', '1'], ['FDNAME', String(bad)]]), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'), `notify FDNAME=, ${label}`);
    }
    manager.drainQueue();
    assert.equal(manager.messages.length, 0);
  } finally {
    lifecycle.dispose();
    server.close();
    notifier.close();
    manager.close();
  }
});

test('success: names at the edges of the rule (a space, 255 characters, every printable ASCII but ":") are accepted and sent as FDNAME=', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = await listeningServer();
  try {
    for (const name of GOOD) {
      assert.deepEqual(listenOptions({ fdName: name, port: 8080 }), { port: 8080 });
      assert.equal(listenFd(name), undefined);
      assert.deepEqual(storedFds(name), []);
      createLifecycle({ fdName: name, handleSignals: false, watchdog: false }).dispose();
      assert.equal(await storeServer(server, name, { notifier }), true);
      const stored = await manager.waitFor('FDSTORE');
      assert.equal(stored.fields.FDNAME, name);
      manager.messages.length = 0;
      assert.equal(await removeStoredFds(name, notifier), true);
      assert.equal((await manager.waitFor('FDSTOREREMOVE')).fields.FDNAME, name);
      manager.messages.length = 0;
    }
  } finally {
    server.close();
    notifier.close();
    manager.close();
  }
});

for (const entry of ['serveHttp', 'lifecycle.listen', 'listenOptions']) {
  test(`success: ${entry} with fdName serves on the passed socket of that name among two (real socket activation)`, { timeout: 30_000 }, async () => {
    const admin = await listeningServer();
    const web = await listeningServer();
    const { port } = web.address() as AddressInfo;
    const child = spawnWithListenFds(process.execPath, nodeArgs(fixture('fd-name.ts'), [entry, 'web site']), [
      { fd: serverFd(admin)!, fdName: 'admin' },
      { fd: serverFd(web)!, fdName: 'web site' },
    ], { cwd: repoRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      assert.deepEqual(await firstJsonLine(child), { listening: entry });
      // Only the child's copy of the socket is left to accept.
      web.close();
      admin.close();
      assert.deepEqual(await getJson({ port }), { entry, pid: child.pid });
    } finally {
      web.close();
      admin.close();
      child.kill('SIGTERM');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
  });
}

test('success: serveHttp with a good fdName and no passed socket listens on the fallback port', async () => {
  const served = serveHttp((_request, response) => response.end('{"ok":true}'), { fdName: 'web site', port: 0, host: '127.0.0.1', handleSignals: false, watchdog: false });
  try {
    await served.ready;
    assert.deepEqual(await getJson({ port: (served.server.address() as AddressInfo).port }), { ok: true });
  } finally {
    await served.lifecycle.shutdown();
    served.lifecycle.dispose();
  }
});


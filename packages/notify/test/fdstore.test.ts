import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Notifier, isNotifyError, removeStoredFds, serverFd, storeFds, storeServer, storedFds } from '../src/index.js';
import { FakeNotifyManager, spawnWithListenFds } from '../src/testing/index.js';
import { childEnv, firstJsonLine, fixture, getJson, nodeArgs, repoRoot } from './helpers.js';

const rejects = (code: string) => (error: unknown) => isNotifyError(error, code as never);

test('success: a stored listening socket comes back through the manager and still accepts TCP connections', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let child;
  try {
    assert.equal(await storeServer(server, 'web', { notifier }), true);
    const message = await manager.waitFor('FDSTORE');
    assert.deepEqual(message.assignments, [['FDSTORE', '1'], ['FDNAME', 'web']]);
    assert.equal(message.fds.length, 1);
    assert.equal(message.pid, process.pid);
    // The old instance goes away; only the manager's copy keeps the port open.
    server.close();
    await once(server, 'close');
    // The next instance gets the stored fd back as LISTEN_FDS with its FDNAME, as after a restart.
    child = spawnWithListenFds(process.execPath, nodeArgs(fixture('serve.ts'), ['web']), [{ fd: message.fds[0]!, fdName: 'web' }], {
      cwd: repoRoot,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report = await firstJsonLine<{ stored: unknown; options: unknown; pid: number }>(child);
    assert.deepEqual(report.stored, [{ fd: 3, name: 'web' }]);
    assert.deepEqual(report.options, { fd: 3 });
    const served = await getJson({ port });
    assert.equal(served.pid, child.pid, 'the connection to the old port was accepted by the new process');
  } finally {
    server.close();
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await once(child, 'exit');
    notifier.close();
    manager.close();
  }
});

test('success: poll: false adds FDPOLL=0; removeStoredFds sends FDSTOREREMOVE=1 with the name', async () => {
  const manager = await FakeNotifyManager.start({ abstract: true });
  const notifier = new Notifier({ socket: manager.socket });
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await storeFds([serverFd(server)!], { fdName: 'web', poll: false, notifier });
    assert.deepEqual((await manager.waitFor('FDSTORE')).assignments, [['FDSTORE', '1'], ['FDNAME', 'web'], ['FDPOLL', '0']]);
    await removeStoredFds('web', notifier);
    assert.deepEqual((await manager.waitFor('FDSTOREREMOVE')).assignments, [['FDSTOREREMOVE', '1'], ['FDNAME', 'web']]);
  } finally {
    server.close();
    notifier.close();
    manager.close();
  }
});

test('no-op: off systemd storing resolves false and nothing was stored', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    assert.equal(await storeServer(server, 'web', { notifier: new Notifier({ socket: null }) }), false);
    assert.deepEqual(storedFds('web'), []);
  } finally {
    server.close();
  }
});

test('failure: a server that is not listening has no fd to store', async () => {
  const server = createServer();
  assert.equal(serverFd(server), undefined);
  await assert.rejects(storeServer(server, 'web', { notifier: new Notifier({ socket: null }) }), rejects('ERR_NOTIFY_INVALID_FDS'));
});

test('failure: FDNAME with ":" is rejected before anything is sent', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await assert.rejects(storeFds([serverFd(server)!], { fdName: 'web:1', notifier }), rejects('ERR_NOTIFY_INVALID_OPTION'));
    await assert.rejects(storeServer(server, 'web:1', { notifier }), rejects('ERR_NOTIFY_INVALID_OPTION'));
    await assert.rejects(removeStoredFds('', notifier), rejects('ERR_NOTIFY_INVALID_OPTION'));
    assert.throws(() => storedFds('a:b'), rejects('ERR_NOTIFY_INVALID_OPTION'));
    await assert.rejects(storeFds([], { fdName: 'web', notifier }), rejects('ERR_NOTIFY_INVALID_FDS'));
    manager.drainQueue();
    assert.equal(manager.messages.length, 0);
  } finally {
    server.close();
    notifier.close();
    manager.close();
  }
});

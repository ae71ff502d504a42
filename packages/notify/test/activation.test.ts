import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { isNotifyError, listenFd, listenFds, listenOptions, serverFd } from '../src/index.js';
import { spawnWithListenFds } from '../src/testing/index.js';
import { childEnv, collect, firstJsonLine, fixture, getJson, nodeArgs, repoRoot } from './helpers.js';

interface Report {
  pid: number;
  fds: Array<{ fd: number; name: string }>;
  stored: Array<{ fd: number; name: string }>;
  options: Record<string, unknown>;
  fd3Before: string;
  fd3After: string;
  envAfter: string[];
}

async function listening(): Promise<Server> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

test('no-op: not socket-activated: no fds, and listenOptions() falls back to the port/host or path', () => {
  assert.deepEqual(listenFds(), []);
  assert.equal(listenFd(), undefined);
  assert.equal(listenFd('http'), undefined);
  assert.deepEqual(listenOptions({ port: 8080, host: '127.0.0.1', fdName: 'http' }), { port: 8080, host: '127.0.0.1' });
  assert.deepEqual(listenOptions({ port: 8080 }), { port: 8080 });
  assert.deepEqual(listenOptions({ path: '/run/app.sock' }), { path: '/run/app.sock' });
  assert.throws(() => listenOptions({ port: 70_000 }), (e) => isNotifyError(e, 'ERR_NOTIFY_INVALID_OPTION'));
});

test('success: a child given LISTEN_FDS serves HTTP on fd 3, with FD_CLOEXEC set and LISTEN_* removed', async () => {
  const server = await listening();
  const port = (server.address() as AddressInfo).port;
  const child = spawnWithListenFds(process.execPath, nodeArgs(fixture('serve.ts'), ['http']), [{ fd: serverFd(server)!, fdName: 'http' }], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const report = await firstJsonLine<Report>(child);
    // Our copy is closed: only the child can now accept on the port.
    server.close();
    assert.equal(report.pid, child.pid);
    assert.deepEqual(report.fds, [{ fd: 3, name: 'http' }]);
    assert.deepEqual(report.options, { fd: 3 });
    assert.deepEqual(report.envAfter, []);
    // Node 20+ already marks inherited fds close-on-exec at start-up; we set it again
    // (sd_listen_fds does) so it holds whatever the runtime does. Either way: no leak.
    assert.equal(report.fd3After, 'none', 'after listenFds() a child process does not inherit fd 3');
    const served = await getJson<Report>({ port });
    assert.equal(served.pid, child.pid);
  } finally {
    server.close();
    await stop(child);
  }
});

test('success: one passed fd under another name (a .socket unit without FileDescriptorName=) is still used', async () => {
  const server = await listening();
  const child = spawnWithListenFds(process.execPath, nodeArgs(fixture('serve.ts'), ['http']), [{ fd: serverFd(server)!, fdName: 'hello.socket' }], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const report = await firstJsonLine<Report>(child);
    assert.deepEqual(report.options, { fd: 3 });
  } finally {
    server.close();
    await stop(child);
  }
});

test('failure: several passed fds and none with the name asked for is ERR_NOTIFY_FD_NOT_FOUND, not a silent port bind', async () => {
  const [a, b] = [await listening(), await listening()];
  const child = spawnWithListenFds(process.execPath, nodeArgs(fixture('serve.ts'), ['http']), [{ fd: serverFd(a)!, fdName: 'admin' }, { fd: serverFd(b)!, fdName: 'metrics' }], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const result = await collect(child);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /ERR_NOTIFY_FD_NOT_FOUND/);
    assert.match(result.stderr, /"admin".*"metrics"/);
  } finally {
    a.close();
    b.close();
  }
});

test('no-op: LISTEN_PID of another process: the fds are not taken and the fallback port is used', async () => {
  const child = spawn(process.execPath, nodeArgs(fixture('serve.ts'), ['http']), {
    cwd: repoRoot,
    env: childEnv({ LISTEN_PID: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    // The fixture's fallback is port 1, which a non-root process cannot bind and root can:
    // what matters is that it did not take fd 3.
    const report = await firstJsonLine<Report>(child).catch((error: Error) => ({ error: error.message }) as unknown as Report);
    if ('fds' in report) {
      assert.deepEqual(report.fds, []);
      assert.deepEqual(report.options, { port: 1 });
    } else {
      assert.doesNotMatch(JSON.stringify(report), /fd: 3/);
    }
  } finally {
    await stop(child);
  }
});

test('failure: LISTEN_FDS promising a socket where there is none is ERR_NOTIFY_INVALID_FDS, not a bare EINVAL', async () => {
  // Nothing is passed, so the child's fd 3 is whatever Node opened for itself (an epoll fd).
  const liar = spawn('/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', 'sh', process.execPath, ...nodeArgs(fixture('serve.ts'), ['http'])], {
    cwd: repoRoot,
    env: childEnv({ LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await collect(liar);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /ERR_NOTIFY_INVALID_FDS/);
  assert.match(result.stderr, /fd 3 \("http"\) is not a socket/);
});

test('failure: a passed datagram socket is refused by listenOptions() with ERR_NOTIFY_INVALID_FDS', async () => {
  const { loadNative } = await import('../src/native.js');
  const native = loadNative();
  const dgram = native.socket();
  try {
    const child = spawnWithListenFds(process.execPath, nodeArgs(fixture('serve.ts'), ['http']), [{ fd: dgram, fdName: 'http' }], {
      cwd: repoRoot,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not a stream socket/);
  } finally {
    native.close(dgram);
  }
});

test('success: real systemd-socket-activate passes LISTEN_FDS; the child serves HTTP on it', async () => {
  const probe = await listening();
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  await once(probe, 'close');
  const activator = spawn('/usr/bin/systemd-socket-activate', ['-l', `127.0.0.1:${port}`, '--fdname=http', '-E', 'PATH', process.execPath, ...nodeArgs(fixture('serve.ts'), ['http'])], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let activatorErr = '';
  activator.stderr!.setEncoding('utf8').on('data', (c: string) => (activatorErr += c));
  try {
    // systemd-socket-activate listens first and starts the command on the first connection.
    let report: Report | undefined;
    for (let attempt = 0; attempt < 100 && !report; attempt++) {
      report = await getJson<Report>({ port }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    assert.ok(report, `no answer; systemd-socket-activate said: ${activatorErr}`);
    assert.deepEqual(report.fds, [{ fd: 3, name: 'http' }]);
    assert.deepEqual(report.options, { fd: 3 });
    assert.deepEqual(report.envAfter, []);
    assert.equal(report.fd3After, 'none');
    // A second request reaches the same process: it serves on the passed socket.
    assert.equal((await getJson<Report>({ port })).pid, report.pid);
  } finally {
    await stop(activator);
  }
});

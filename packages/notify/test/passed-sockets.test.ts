import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { loadNative } from '../src/native.js';
import { explainMismatch } from '../src/passed-socket-messages.js';
import { canonicalHost, coversHost, formatAddress, matchListen, parseListenArgs, parseListenPath, unixPath, type PassedSocket } from '../src/passed-sockets.js';

const socket = (fd: number, host: string, port: number, name = 'http'): PassedSocket => ({ fd, name, host, port, family: host.includes(':') ? 6 : 4 });

async function listening(port: number, host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}

test('success: socketAddress reads the bound address and port of a real listening socket (IPv4, IPv6 wildcard)', async () => {
  const native = loadNative();
  for (const host of ['127.0.0.1', '::']) {
    const server = await listening(0, host);
    try {
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      const info = native.socketAddress(fd);
      assert.ok(typeof info === 'object');
      assert.equal(formatAddress(info.family, info.address), host);
      assert.equal(info.port, (server.address() as { port: number }).port);
    } finally {
      server.close();
    }
  }
});

test('failure: socketAddress of an fd that is not a socket is -ENOTSOCK', () => {
  const fd = openSync('/dev/null', 'r');
  try {
    assert.equal(loadNative().socketAddress(fd), -88);
  } finally {
    closeSync(fd);
  }
});

test('success: addresses in canonical form (IPv4-mapped IPv6 as IPv4, brackets dropped, names unchanged)', () => {
  assert.equal(formatAddress(10, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1])), '127.0.0.1');
  assert.equal(formatAddress(10, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])), '::1');
  assert.equal(formatAddress(1, Buffer.from('/run/x')), undefined);
  assert.equal(canonicalHost('[::1]'), '::1');
  assert.equal(canonicalHost('0:0:0:0:0:0:0:0'), '::');
  assert.equal(canonicalHost('localhost'), 'localhost');
});

test('success: listen() overloads as net.Server reads them; no-op for paths, fds, handles and port 0', () => {
  const cb = (): void => {};
  assert.deepEqual(parseListenArgs([3000]), { port: 3000 });
  assert.deepEqual(parseListenArgs(['3000', cb]), { port: 3000 });
  assert.deepEqual(parseListenArgs([3000, '127.0.0.1', 511, cb]), { port: 3000, host: '127.0.0.1' });
  assert.deepEqual(parseListenArgs([{ port: 80, host: '::', exclusive: true }]), { port: 80, host: '::', exclusive: true });
  assert.equal(parseListenArgs([0]), undefined);
  assert.equal(parseListenArgs([]), undefined);
  assert.equal(parseListenArgs(['/run/app.sock']), undefined);
  assert.equal(parseListenArgs([{ fd: 3 }]), undefined);
  assert.equal(parseListenArgs([{ path: '/run/app.sock' }]), undefined);
  assert.equal(parseListenArgs([{ port: 3000, path: '/x' }]), undefined);
  assert.equal(parseListenArgs([{ _handle: {} }]), undefined);
  assert.equal(parseListenArgs([70000]), undefined);
});

test('success: which addresses a passed socket covers', () => {
  const dual = socket(3, '::', 3000);
  const any4 = socket(3, '0.0.0.0', 3000);
  const lo4 = socket(3, '127.0.0.1', 3000);
  const lo6 = socket(3, '::1', 3000);
  const cases: Array<[PassedSocket, string | undefined, boolean]> = [
    [dual, undefined, true],
    [dual, '10.1.2.3', true],
    [any4, 'localhost', true],
    [any4, '::1', false],
    [any4, '192.168.1.5', true],
    [lo4, undefined, true],
    [lo4, '0.0.0.0', true],
    [lo4, '::', true],
    [lo4, 'localhost', true],
    [lo4, '::ffff:127.0.0.1', true],
    [lo4, '127.0.0.2', false],
    [lo4, 'example.com', false],
    [lo6, '[::1]', true],
    [lo6, '127.0.0.1', false],
  ];
  for (const [passed, host, expected] of cases) assert.equal(coversHost(passed, host), expected, `${passed.host} covers ${String(host)}`);
});

test('success: matching a listen call to passed sockets (adopt, taken, exclusive, other host, none)', () => {
  const passed = [socket(3, '127.0.0.1', 3000), socket(4, '::1', 3000, 'v6'), socket(5, '::', 8443, 'tls')];
  const none = new Set<number>();
  assert.deepEqual(matchListen({ port: 3000 }, passed, none), { kind: 'adopt', socket: passed[0] });
  assert.deepEqual(matchListen({ port: 3000 }, passed, new Set([3])), { kind: 'adopt', socket: passed[1] });
  assert.deepEqual(matchListen({ port: 3000, host: '::1' }, passed, none), { kind: 'adopt', socket: passed[1] });
  assert.deepEqual(matchListen({ port: 8443, host: 'localhost' }, passed, none), { kind: 'adopt', socket: passed[2] });
  assert.deepEqual(matchListen({ port: 3000 }, passed, new Set([3, 4])), { kind: 'taken', socket: passed[0] });
  assert.deepEqual(matchListen({ port: 3000, exclusive: true }, passed, none), { kind: 'exclusive', socket: passed[0] });
  assert.deepEqual(matchListen({ port: 3000, host: '10.0.0.1' }, passed, none), { kind: 'other-host', sockets: passed.slice(0, 2) });
  assert.deepEqual(matchListen({ port: 9000 }, passed, none), { kind: 'none' });
  // Fastify's second binding for "localhost" (::1 after 127.0.0.1 took the only passed socket): not a mistake.
  const one = [socket(3, '127.0.0.1', 3000)];
  assert.deepEqual(matchListen({ port: 3000, host: '::1' }, one, new Set([3])), { kind: 'taken', socket: one[0] });
  assert.equal(matchListen({ port: 3000, host: '::1' }, one, none).kind, 'other-host');
});

test('failure messages name the fd, its name and address, and the fix; none for a match', () => {
  const passed = socket(3, '127.0.0.1', 3000);
  const exclusive = explainMismatch({ port: 3000, exclusive: true }, { kind: 'exclusive', socket: passed });
  assert.match(exclusive!, /fd 3 "http" \(127\.0\.0\.1:3000\).*EADDRINUSE.*Fix:/);
  const other = explainMismatch({ port: 3000, host: '::1' }, { kind: 'other-host', sockets: [passed] });
  assert.match(other!, /listen\(\[::1\]:3000\).*fd 3 "http" \(127\.0\.0\.1:3000\).*Fix:.*ListenStream=.*\[::1\]:3000/);
  assert.equal(explainMismatch({ port: 3000 }, { kind: 'adopt', socket: passed }), undefined);
  assert.equal(explainMismatch({ port: 3000 }, { kind: 'none' }), undefined);
});

test('success: unix socket paths as Node names them (abstract with a leading NUL), listen(path) made absolute; no-op for ports and fds', () => {
  assert.equal(unixPath(Buffer.from('/run/app.sock\0')), '/run/app.sock');
  assert.equal(unixPath(Buffer.from('\0app')), '\0app');
  assert.equal(unixPath(Buffer.alloc(0)), undefined);
  assert.equal(parseListenPath(['/run/app.sock', () => {}]), '/run/app.sock');
  assert.equal(parseListenPath([{ path: 'app.sock' }]), join(process.cwd(), 'app.sock'));
  assert.equal(parseListenPath(['\0app']), '\0app');
  assert.equal(parseListenPath([3000]), undefined);
  assert.equal(parseListenPath(['3000']), undefined);
  assert.equal(parseListenPath([{ fd: 3 }]), undefined);
});

test('success: socketAddress of a real unix listening socket gives its path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-unix-'));
  const server = createServer();
  try {
    await new Promise<void>((resolve) => server.listen(join(dir, 'app.sock'), resolve));
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const info = loadNative().socketAddress(fd);
    assert.ok(typeof info === 'object');
    assert.deepEqual({ family: info.family, port: info.port, path: unixPath(info.address) }, { family: 1, port: 0, path: join(dir, 'app.sock') });
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

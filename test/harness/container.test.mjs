// Self-test of the real-systemd harness: node --test test/harness/container.test.mjs
// Needs root (it boots systemd-nspawn containers); skips with the reason otherwise.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { bootContainer, canBootContainer, ensureTrixieRoot, freePort } from './container.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const harness = path.join(here, 'container.mjs');

const probe = await canBootContainer();
const skip = probe.ok ? false : `cannot boot a container here: ${probe.reason}`;

function hostMounts() {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split(' ').slice(3, 5).join(' ')).sort();
}

function newMounts(before) {
  return hostMounts().filter((m) => !before.includes(m));
}

function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

const APP = `'use strict';
const http = require('node:http');
const os = require('node:os');
const port = Number(process.env.PORT);
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ pid: process.pid, uid: process.getuid(), host: os.hostname(), node: process.version }));
});
server.listen(port, '127.0.0.1', () => console.log('hello listening on ' + port));
process.on('SIGTERM', () => {
  console.log('hello got SIGTERM');
  server.close(() => process.exit(0));
});
`;

const unit = (port) => `[Unit]
Description=harness self-test HTTP app

[Service]
Type=exec
ExecStart=/usr/bin/node /opt/hello/server.cjs
Environment=PORT=${port}
DynamicUser=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
`;

async function fetchRetry(url, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { status: r.status, body: await r.json() };
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms: ${last?.cause?.code ?? last?.message}`);
}

/** The shared scenario: install the app under /opt, start it, talk to it from the host, stop it. */
async function helloScenario(c) {
  const port = await freePort();
  await c.writeFile('/opt/hello/server.cjs', APP);
  await c.installUnit('hello.service', unit(port));
  const start = await c.exec(['systemctl', 'start', 'hello.service'], { timeoutMs: 20_000 });
  assert.equal(start.code, 0, `systemctl start failed: ${start.stderr}`);

  const { status, body } = await fetchRetry(`http://127.0.0.1:${port}/`);
  assert.equal(status, 200);
  assert.equal(body.host, c.name, 'the app runs with the container hostname');
  assert.equal(body.node, process.version, "the app runs the host's node binary");
  assert.notEqual(body.uid, 0, 'DynamicUser=yes gives a non-root uid');

  const props = await c.show('hello.service', ['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'Result', 'StatusText']);
  assert.equal(props.ActiveState, 'active');
  assert.equal(props.SubState, 'running');
  assert.equal(Number(props.MainPID), body.pid, 'MainPID is the process that answered');
  assert.equal(props.NRestarts, '0');
  assert.equal(props.Result, 'success');

  const journal = await c.waitForJournal('hello.service', `hello listening on ${port}`);
  assert.match(journal, new RegExp(`hello listening on ${port}`));

  const stop = await c.exec(['systemctl', 'stop', 'hello.service'], { timeoutMs: 20_000 });
  assert.equal(stop.code, 0, `systemctl stop failed: ${stop.stderr}`);
  const after = await c.show('hello.service', ['ActiveState', 'Result', 'MainPID']);
  assert.equal(after.ActiveState, 'inactive');
  assert.equal(after.Result, 'success', 'exit 0 after SIGTERM');
  assert.equal(after.MainPID, '0');
  assert.match(await c.journal('hello.service'), /hello got SIGTERM/);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) }), 'the port is closed after stop');
}

async function assertStoppedClean(c, mountsBefore) {
  const res = await c.stop();
  assert.equal(res.clean, true, `stop left something: ${JSON.stringify(res)}`);
  assert.deepEqual(res.pids, []);
  assert.equal(alive(c.pid1), false, "the container's PID 1 is gone");
  assert.equal(alive(c.nspawnPid), false, 'systemd-nspawn is gone');
  for (const d of c.cgroupDirs) assert.equal(fs.existsSync(d), false, `cgroup ${d} removed`);
  assert.equal(fs.existsSync(c.workDir), false, 'work dir removed');
  assert.deepEqual(newMounts(mountsBefore), [], 'no new mount on the host');
  const again = await c.stop();
  assert.equal(again, res, 'stop() is idempotent');
  const e = await c.exec(['true']).catch((err) => err);
  assert.match(String(e), /not running/);
}

describe('real systemd 252 (host /usr)', { skip, timeout: 180_000 }, () => {
  let c;
  let mountsBefore;
  before(async () => {
    mountsBefore = hostMounts();
    c = await bootContainer({ name: 'nsd-harness-252', systemd: '252', bind: [repo] });
  });
  after(async () => { await c?.stop(); });

  test('boots to running, systemd is PID 1, the mounts stay off the host', async () => {
    assert.ok(c.pid1 > 1);
    assert.ok(c.bootMs > 0 && c.bootMs < 60_000);
    assert.equal(c.state, 'running', `failed units: ${c.failedUnits.join(', ')}`);
    const host = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'systemd'], { encoding: 'utf8' }).stdout;
    assert.equal(c.systemdVersion, host.split('.')[0], "the host's systemd runs inside");
    const r = await c.exec(['systemctl', 'is-system-running']);
    assert.equal(r.stdout.trim(), 'running');
    const comm = await c.exec(['cat', '/proc/1/comm']);
    assert.equal(comm.stdout.trim(), 'systemd');
    assert.equal(fs.readFileSync(`/proc/${c.pid1}/comm`, 'utf8').trim(), 'systemd');
    assert.deepEqual(newMounts(mountsBefore), [], 'booting mounted nothing on the host');
    assert.ok(c.pids().includes(c.pid1), "PID 1 is in the container's cgroup");
    const cg = await c.exec(['stat', '-fc', '%T', '/sys/fs/cgroup']);
    assert.equal(cg.stdout.trim(), 'cgroup2fs', 'pure cgroup v2 inside');
    const hn = await c.exec(['hostname']);
    assert.equal(hn.stdout.trim(), 'nsd-harness-252');
  });

  test('the project is bound read-only at the same path', async () => {
    const r = await c.exec(['cat', path.join(repo, 'test/harness/container.mjs')]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, fs.readFileSync(harness, 'utf8'));
    const w = await c.exec(['touch', path.join(repo, 'test/harness/.should-not-exist')]);
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /Read-only file system/);
    assert.equal(fs.existsSync(path.join(repo, 'test/harness/.should-not-exist')), false);
  });

  test('exec passes env, stdin, cwd and exit codes; times out', async () => {
    const r = await c.exec(['sh', '-c', 'echo "$FOO:$(pwd):$(cat)"; exit 3'], { env: { FOO: 'bar' }, input: 'in', cwd: '/opt' });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'bar:/opt:in\n');
    const env = await c.exec(['env']);
    assert.deepEqual(env.stdout.trim().split('\n').map((l) => l.split('=')[0]), ['PATH'], 'env -i: only PATH');
    const t0 = Date.now();
    const slow = await c.exec(['sleep', '30'], { timeoutMs: 300 });
    assert.equal(slow.timedOut, true);
    assert.ok(Date.now() - t0 < 5_000);
    await assert.rejects(c.exec(['false'], { check: true }), /`false` exited 1/);
  });

  test('a hardened service under /opt: start, serve the host, journal, stop', async () => {
    await helloScenario(c);
  });

  test('stop powers off and leaves no process, mount, cgroup or file', async () => {
    await assertStoppedClean(c, mountsBefore);
    assert.equal(c.stopResult.forced, false, 'poweroff by SIGRTMIN+4 finished without SIGKILL');
    // a timed-out exec earlier must not leave a zombie that holds up shutdown (it did: 10 s)
    assert.ok(c.stopResult.ms < 5_000, `poweroff took ${c.stopResult.ms} ms`);
  });
});

describe('cleanup when the test process dies', { skip, timeout: 120_000 }, () => {
  // A child process boots a container, reports it, then dies in the given way.
  const child = (how) => `
    import { bootContainer } from ${JSON.stringify(harness)};
    const c = await bootContainer({ name: 'nsd-harness-die' });
    process.stdout.write(JSON.stringify({ pid1: c.pid1, nspawn: c.nspawnPid, cgroups: c.cgroupDirs, work: c.workDir }) + '\\n');
    ${how === 'exit' ? 'process.exit(7);' : 'setInterval(() => {}, 1000);'}
  `;
  for (const how of ['exit', 'SIGTERM']) {
    test(`process ${how === 'exit' ? "'exit'" : how} stops the container`, async () => {
      const mountsBefore = hostMounts();
      const p = spawn(process.execPath, ['--input-type=module', '-e', child(how)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const info = await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child did not report: ${out}`)), 60_000);
        p.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) { clearTimeout(t); resolve(JSON.parse(out.split('\n')[0])); }
        });
        p.on('exit', () => { clearTimeout(t); if (!out.includes('\n')) reject(new Error('child exited before reporting')); });
      });
      assert.ok(alive(info.pid1));
      if (how === 'SIGTERM') p.kill('SIGTERM');
      const [code, signal] = await new Promise((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) resolve([p.exitCode, p.signalCode]);
        else p.on('exit', (c, s) => resolve([c, s]));
      });
      if (how === 'exit') assert.equal(code, 7);
      else assert.equal(signal, 'SIGTERM', 'the signal is re-raised after cleanup');
      // the 'exit' path is synchronous; give the kernel a moment to reap
      const deadline = Date.now() + 5_000;
      while ((alive(info.pid1) || alive(info.nspawn)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(info.pid1), false, 'container PID 1 gone');
      assert.equal(alive(info.nspawn), false, 'nspawn gone');
      for (const d of info.cgroups) assert.equal(fs.existsSync(d), false, `cgroup ${d} removed`);
      assert.equal(fs.existsSync(info.work), false, 'work dir removed');
      assert.deepEqual(newMounts(mountsBefore), []);
    });
  }
});

describe('errors say what failed', { skip }, () => {
  test('a missing bind path is rejected before anything starts', async () => {
    await assert.rejects(bootContainer({ bind: ['/no/such/dir'] }), /bind path does not exist: \/no\/such\/dir/);
  });
  test('a bad name or systemd version is rejected', async () => {
    await assert.rejects(bootContainer({ name: 'bad name' }), /invalid container name/);
    await assert.rejects(bootContainer({ systemd: '999' }), /systemd must be/);
  });
});

describe('real systemd 257 (Debian 13 root)', { skip, timeout: 900_000 }, () => {
  let c;
  let mountsBefore;
  let trixieSkip = false;
  before(async () => {
    try {
      await ensureTrixieRoot();
    } catch (err) {
      trixieSkip = `the Debian 13 root cannot be built here: ${err.message.split('\n')[0]}`;
      return;
    }
    mountsBefore = hostMounts();
    c = await bootContainer({ name: 'nsd-harness-257', systemd: '257', bind: [repo] });
  });
  after(async () => { await c?.stop(); });

  test('boots systemd 257 to running with the host node', async (t) => {
    if (trixieSkip) return t.skip(trixieSkip);
    assert.equal(c.systemdVersion, '257');
    assert.equal(c.state, 'running', `failed units: ${c.failedUnits.join(', ')}`);
    const v = await c.exec(['node', '-v']);
    assert.equal(v.stdout.trim(), process.version);
    const os = await c.exec(['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME']);
    assert.equal(os.stdout.trim(), 'trixie');
    // the cached tree is never written: /etc changes land in the tmpfs overlay
    await c.writeFile('/etc/nsd-harness-probe', 'x');
    assert.equal(fs.existsSync('/var/cache/node-systemd/trixie-root/etc/nsd-harness-probe'), false);
    assert.deepEqual(newMounts(mountsBefore), []);
  });

  test('a hardened service under /opt: start, serve the host, journal, stop', async (t) => {
    if (trixieSkip) return t.skip(trixieSkip);
    await helloScenario(c);
  });

  test('stop leaves no process, mount, cgroup or file', async (t) => {
    if (trixieSkip) return t.skip(trixieSkip);
    await assertStoppedClean(c, mountsBefore);
  });
});

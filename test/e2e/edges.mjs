// Checks that are about systemd and the notify core rather than one framework:
// a STATUS= with a newline, the fd store across `systemctl restart` (no .socket
// unit), and on 257 Type=notify-reload. One container per call.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { bootSuiteContainer, get, here, inContainer, mountRepo, pickPort, portFree, recordResults, repo, restartsDuring, runLoad, sleep, TEST_HOOKS_ENV, watchProps } from './lib.mjs';

const FIXTURES = '/opt/fixtures';
// The fd store and notify-reload run the real examples (HELLO_FDSTORE=1, HELLO_RELOAD_MS=N)
// once built; the stand-in fixture otherwise (E2E_STANDIN=1).
const RELOAD_APP = 'fastify';
const built = (name) => fs.existsSync(path.join(repo, 'examples', `hello-${name}`, 'dist', 'app.js'));
const appExec = (name) => (built(name) ? `/usr/bin/node /opt/hello-${name}/dist/app.js` : `/usr/bin/node ${FIXTURES}/standin/app.js`);
const appName = (name) => (built(name) ? `hello-${name}` : 'stand-in fixture (node:http)');
const count = (text, re) => text.split('\n').filter((l) => re.test(l)).length;

/** The shipped hardened unit of hello-fastify, turned into a plain-port service running a fixture. */
function hardenedFixtureUnit({ app, type = 'notify', extra = '' }) {
  const execStart = appExec(app);
  const shipped = fs.readFileSync(path.join(repo, 'examples', `hello-${app}`, 'hello.service'), 'utf8');
  return shipped
    .replace(/^(Requires|After)=hello\.socket\n/gm, '')
    .replace(/^Type=notify$/m, `Type=${type}`)
    .replace(/^ExecStart=.*$/m, `ExecStart=${execStart}`)
    .replace(/^PrivateNetwork=yes$/m, 'PrivateNetwork=no')
    .replace(/^RestrictAddressFamilies=AF_UNIX$/m, 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6')
    .replace(/^\[Install\]/m, `${extra}\n[Install]`);
}

export function defineEdgeSuite({ systemd = '252', loadSeconds = 15, restarts = 5, connections = 10, readmeInstall = false, fdStoreApps = ['express'] } = {}) {
  describe(`systemd ${systemd}: STATUS newline, fd store${systemd === '252' ? '' : ', notify-reload'}`, { concurrency: false }, () => {
    let c;
    let skip = false;

    before(async () => {
      const booted = await bootSuiteContainer('edges', systemd);
      if (booted.skip) return (skip = booted.skip);
      c = booted.c;
      await mountRepo(c);
      await c.exec(['ln', '-sfn', inContainer(path.join(here, 'fixtures')), FIXTURES], { check: true });
      for (const name of new Set([...fdStoreApps, RELOAD_APP])) {
        await c.exec(['ln', '-sfn', inContainer(path.join(repo, 'examples', `hello-${name}`)), `/opt/hello-${name}`], { check: true });
        if (!built(name) && process.env.E2E_STANDIN !== '1') skip = `examples/hello-${name}/dist/app.js is missing: run \`pnpm build\` first`;
      }
    });

    after(async () => {
      if (c) await c.stop();
    });

    const it = (title, fn, opts = {}) =>
      test(title, { timeout: 180_000, ...opts }, async (t) => {
        if (skip) return t.skip(skip);
        await fn(t);
      });

    it('node-systemd doctor --runtime inside a real service: clean when node is the main PID; a shell that stays the parent is an error', async (t) => {
      const bin = inContainer(path.join(repo, 'packages', 'cli', 'dist', 'bin.js'));
      if (!fs.existsSync(path.join(repo, 'packages', 'cli', 'dist', 'bin.js'))) return t.skip('packages/cli is not built');
      // A transient service with NOTIFY_SOCKET and WATCHDOG_USEC set by systemd itself; its stdout comes back here.
      const run = (...execStart) =>
        c.exec(['systemd-run', '--wait', '--pipe', '--quiet', '-p', 'NotifyAccess=main', '-p', 'WatchdogSec=20s', '-p', 'DynamicUser=yes', ...execStart], { timeoutMs: 60_000 });
      const direct = await run('/usr/bin/node', bin, 'doctor', '--runtime', '--json');
      t.diagnostic(`node as the main PID: exit ${direct.code}, ${direct.stdout.trim().replace(/\s+/g, ' ').slice(0, 300)}`);
      assert.equal(direct.code, 0, direct.stderr);
      assert.deepEqual(JSON.parse(direct.stdout).findings, []);
      const shell = await run('/bin/sh', '-c', `/usr/bin/node ${bin} doctor --runtime --json; echo`);
      const report = JSON.parse(shell.stdout);
      t.diagnostic(`under sh -c: ${report.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join(' | ').slice(0, 400)}`);
      assert.equal(report.ok, false);
      assert.deepEqual(report.findings.filter((f) => f.severity === 'error').map((f) => f.rule).sort(), ['runtime-parent', 'runtime-watchdog']);
    });

    it('a STATUS text with a newline cannot make a not-yet-ready service ready', async (t) => {
      const unit = (mode) => `[Unit]
Description=newline in STATUS (${mode})

[Service]
Type=notify
ExecStart=/usr/bin/node ${FIXTURES}/newline-status.js
Environment=MODE=${mode}
DynamicUser=yes
TimeoutStartSec=60s
`;
      await c.installUnit('newline-library.service', unit('library'));
      await c.installUnit('newline-naive.service', unit('naive'));
      // Through the library: the text is rejected, the service stays "activating".
      await c.systemctl('start', '--no-block', 'newline-library.service', { check: true });
      await c.waitForJournal('newline-library.service', /library: rejected the newline/, { timeoutMs: 30_000 });
      await c.waitForProps('newline-library.service', { StatusText: /newline rejected/ }, { timeoutMs: 10_000 });
      await sleep(1000);
      const lib = await c.show('newline-library.service', ['ActiveState', 'SubState', 'StatusText']);
      t.diagnostic(`library: ${lib.ActiveState}/${lib.SubState}, StatusText=${JSON.stringify(lib.StatusText)}`);
      assert.equal(lib.ActiveState, 'activating');
      assert.equal(lib.SubState, 'start');
      await c.systemctl('stop', 'newline-library.service', { timeoutMs: 30_000 });
      // The contrast, so this test would notice: the same bytes sent raw do make it ready.
      const naive = await c.systemctl('start', 'newline-naive.service', { timeoutMs: 60_000 });
      const p = await c.show('newline-naive.service', ['ActiveState', 'SubState', 'StatusText']);
      t.diagnostic(`naive raw datagram: systemctl start exited ${naive.code} after ${naive.ms} ms; ${p.ActiveState}/${p.SubState}, StatusText=${JSON.stringify(p.StatusText)}`);
      assert.equal(naive.code, 0);
      assert.equal(p.ActiveState, 'active', 'systemd reads "STATUS=booting\\nREADY=1" as READY=1');
      assert.equal(p.StatusText, 'booting');
      await c.systemctl('stop', 'newline-naive.service', { timeoutMs: 30_000 });
    });

  for (const FDSTORE_APP of fdStoreApps) {
    it(`fd store without a .socket unit (hello-${FDSTORE_APP}): the listener survives systemctl restart (${connections} clients, ${loadSeconds} s, ${restarts} restarts)`, async (t) => {
      const port = await pickPort();
      await c.installUnit(`hello-fdstore-${FDSTORE_APP}.service`, hardenedFixtureUnit({
        app: FDSTORE_APP,
        extra: `Environment=${TEST_HOOKS_ENV} HELLO_FDSTORE=1 PORT=${port} HOST=127.0.0.1\nFileDescriptorStoreMax=1\n`,
      }));
      const r = await c.systemctl('start', `hello-fdstore-${FDSTORE_APP}.service`, { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      // The app stores its listener right after READY=1; give the datagram a moment.
      await c.waitForProps(`hello-fdstore-${FDSTORE_APP}.service`, { NFileDescriptorStore: '1' }, { timeoutMs: 10_000 }).catch(async (err) => {
        throw new Error(`${err.message}\njournal:\n${await c.journal(`hello-fdstore-${FDSTORE_APP}.service`)}`);
      });
      const [load, rs] = await Promise.all([
        runLoad({ port, connections, durationMs: loadSeconds * 1000 }),
        restartsDuring(c, `hello-fdstore-${FDSTORE_APP}.service`, { times: restarts, firstAfterMs: 1500, everyMs: Math.floor((loadSeconds * 1000 - 3000) / restarts) }),
      ]);
      const afterRestarts = await c.show(`hello-fdstore-${FDSTORE_APP}.service`, ['NFileDescriptorStore', 'ActiveState']);
      // Which socket did each new process listen on? The app's READY STATUS= says
      // "fd 3" when it got a passed (here: stored) socket, else the address it bound.
      const fromStore = (status) => /\bfd 3\b/.test(status);
      const reused = rs.filter((x) => fromStore(x.status)).length;
      // And across stop + start (no job keeps the unit referenced in between)?
      await c.systemctl('stop', `hello-fdstore-${FDSTORE_APP}.service`, { timeoutMs: 60_000, check: true });
      const stopped = await c.show(`hello-fdstore-${FDSTORE_APP}.service`, ['NFileDescriptorStore', 'ActiveState']);
      await c.systemctl('start', `hello-fdstore-${FDSTORE_APP}.service`, { timeoutMs: 60_000, check: true });
      const restartedStatus = (await c.show(`hello-fdstore-${FDSTORE_APP}.service`, ['StatusText'])).StatusText;
      const afterStopStart = fromStore(restartedStatus) ? 'took the stored fd' : 'bound the port anew';
      await c.systemctl('stop', `hello-fdstore-${FDSTORE_APP}.service`, { timeoutMs: 60_000 });
      const notes = [
        `fd store (FileDescriptorStoreMax=1, no .socket unit): ${restarts} × systemctl restart, NFileDescriptorStore=${afterRestarts.NFileDescriptorStore} after them; ${reused} of ${restarts} new processes took the stored listener back (READY STATUS ${JSON.stringify(rs.at(-1)?.status)}); ${load.requests} requests, ${load.errors} errors, ${load.non2xx} non-2xx.`,
        `fd store across systemctl stop + start: NFileDescriptorStore=${stopped.NFileDescriptorStore} while stopped; the next process ${afterStopStart} (STATUS ${JSON.stringify(restartedStatus)}).`,
      ];
      for (const n of notes) t.diagnostic(n);
      recordResults(`fdstore-${FDSTORE_APP}-${systemd}`, {
        kind: 'fdstore',
        date: new Date().toISOString().slice(0, 10),
        systemd: c.systemdVersion,
        app: appName(FDSTORE_APP),
        variants: [{ setup: 'fd store, no socket unit', unit: `hello-fdstore-${FDSTORE_APP}.service`, load, restarts: rs }],
        notes,
      });
      for (const x of rs) assert.equal(x.code, 0, x.stderr);
      assert.equal(afterRestarts.NFileDescriptorStore, '1');
      assert.equal(reused, restarts, 'every restarted process got the stored listener back');
      assert.equal(load.errors, 0, `errors: ${JSON.stringify(load.errorCodes)}`);
      assert.equal(load.non2xx, 0);
    });
  }

    if (systemd !== '252') {
      it('Type=notify-reload: systemctl reload -> SIGHUP -> RELOADING=1 + MONOTONIC_USEC -> READY=1, and reload waits for it', async (t) => {
        const port = await pickPort();
        const reloadMs = 1500;
        await c.installUnit('hello-reload.service', hardenedFixtureUnit({
          app: RELOAD_APP,
          type: 'notify-reload',
          extra: `Environment=${TEST_HOOKS_ENV} HELLO_RELOAD_MS=${reloadMs} PORT=${port} HOST=127.0.0.1\n`,
        }));
        await c.systemctl('start', 'hello-reload.service', { timeoutMs: 60_000, check: true });
        const before = await c.show('hello-reload.service', ['Type', 'ReloadSignal', 'MainPID', 'ActiveState']);
        assert.equal(before.Type, 'notify-reload');
        const reloading = c.systemctl('reload', 'hello-reload.service', { timeoutMs: 60_000 });
        const done = { done: false };
        reloading.finally(() => (done.done = true));
        const watch = await watchProps(c, 'hello-reload.service', ['ActiveState', 'SubState', 'StatusText'], { timeoutMs: 30_000, stop: done });
        const r = await reloading;
        // Read as soon as `systemctl reload` returned: the app's READY=1 must already be in.
        const journal = await c.journal('hello-reload.service');
        const p = await c.show('hello-reload.service', ['ActiveState', 'SubState', 'StatusText', 'MainPID']);
        t.diagnostic(`ReloadSignal=${before.ReloadSignal}; systemctl reload exited ${r.code} after ${r.ms} ms (the app's reload takes ${reloadMs} ms); states seen ${JSON.stringify(watch.seen.ActiveState)}, StatusText ${JSON.stringify(watch.seen.StatusText)}, then ${JSON.stringify(p.StatusText)}`);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(watch.seen.ActiveState.includes('reloading'), `no reloading state seen: ${JSON.stringify(watch.seen.ActiveState)}`);
        assert.match(journal, /reloading/);
        assert.match(journal, /reloaded \(1\)/, 'systemctl reload returned before the app finished');
        assert.equal(p.ActiveState, 'active');
        assert.doesNotMatch(p.StatusText, /reloading/i);
        assert.equal(p.MainPID, before.MainPID, 'a reload is not a restart');
        assert.equal((await get(port, '/')).status, 200);
        await c.systemctl('stop', 'hello-reload.service', { timeoutMs: 60_000 });
      });
    }

    if (readmeInstall) {
      it('the README install: a `pnpm deploy` copy in /opt with the shipped units serves port 80 (or a free port) with no capabilities', async (t) => {
        if (!built('fastify')) return t.skip('examples/hello-fastify is not built');
        const out = path.join(repo, 'test', '.work', 'deploy', 'hello-fastify');
        fs.rmSync(out, { recursive: true, force: true });
        const d = spawnSync('pnpm', ['--filter', 'hello-fastify', 'deploy', '--prod', '--legacy', out], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
        assert.equal(d.status, 0, `pnpm deploy failed: ${d.stderr || d.stdout}`);
        // A real copy under /opt (replacing the symlink the other tests use).
        await c.exec(['sh', '-c', `rm -rf /opt/hello-fastify && cp -a "$1" /opt/hello-fastify && du -sh /opt/hello-fastify`, 'sh', inContainer(out)], { check: true, timeoutMs: 120_000 });
        // The shipped socket listens on port 80; on the host's shared network namespace
        // the test narrows it to 127.0.0.1:80 when that is free (else a free port).
        const port = (await portFree(80)) ? 80 : await pickPort();
        const shipped = (f) => fs.readFileSync(path.join(repo, 'examples', 'hello-fastify', f), 'utf8');
        await c.writeFile('/etc/systemd/system/hello.service', shipped('hello.service'));
        await c.writeFile('/etc/systemd/system/hello.socket', shipped('hello.socket'));
        await c.writeFile('/etc/systemd/system/hello.socket.d/port.conf', `[Socket]\nListenStream=\nListenStream=127.0.0.1:${port}\n`);
        await c.exec(['systemctl', 'daemon-reload'], { check: true });
        await c.systemctl('enable', '--now', 'hello.socket', { check: true, timeoutMs: 30_000 });
        const res = await get(port, '/');
        const p = await c.show('hello.service', ['ActiveState', 'StatusText', 'MainPID']);
        const cmdline = (await c.readFile(`/proc/${p.MainPID}/cmdline`)).split('\0').join(' ').trim();
        const status = await c.readFile(`/proc/${p.MainPID}/status`);
        const capEff = /^CapEff:\s*(\S+)/m.exec(status)?.[1];
        t.diagnostic(`port ${port}, CapEff ${capEff}`);
        assert.equal(capEff, '0000000000000000');
        t.diagnostic(`deployed copy: ${res.status} ${JSON.stringify(res.body)}; ${p.ActiveState}, StatusText=${JSON.stringify(p.StatusText)}; ${cmdline}`);
        assert.equal(res.status, 200);
        assert.equal(res.body.trim(), 'Hello World!');
        assert.equal(p.ActiveState, 'active');
        await c.systemctl('disable', '--now', 'hello.socket', 'hello.service', { timeoutMs: 60_000 });
        fs.rmSync(out, { recursive: true, force: true });
      });
    }
  });
}

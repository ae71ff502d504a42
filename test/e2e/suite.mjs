// The end-to-end suite for one example (hello-fastify, hello-express, hello-koa),
// as systemd sees it: one container boot per test file, the example's shipped
// hardened units plus test drop-ins, assertions on `systemctl show` and the journal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { bootContainer, canBootContainer, ensureTrixieRoot } from '../harness/container.mjs';
import { exampleApp, get, pickPort, installExample, recordResults, repo, resetUnits, restartsDuring, runLoad, sleep, watchProps } from './lib.mjs';

const WATCHDOG_SEC = 3;

/**
 * systemd: '252' (the host's) or '257' (the cached Debian 13 root).
 * contrast: also run the same load against the app on a plain port (hello-plain.service).
 */
export function defineExampleSuite(name, { systemd = '252', loadSeconds = 15, restarts = 5, connections = 10, contrast = true } = {}) {
  const probe = { ok: false };
  const app = exampleApp(name);
  describe(`hello-${name} under systemd ${systemd}`, { concurrency: false }, () => {
    let c;
    let port;
    let plainPort;
    let skip = false;

    before(async () => {
      Object.assign(probe, await canBootContainer());
      if (!probe.ok) return (skip = `cannot boot a container: ${probe.reason}`);
      if (systemd === '257') {
        const root = await ensureTrixieRoot({ log: (l) => console.log(`[trixie] ${l}`) });
        console.log(`# trixie root: systemd ${root.systemd}${root.built ? `, built in ${root.ms} ms` : ' (cached)'}`);
      }
      c = await bootContainer({ name: `nsd-e2e-${name}-${systemd}-${process.pid}`, systemd, bind: [repo], bootTimeoutMs: 90_000 });
      console.log(`# container: systemd ${c.systemdVersion}, booted in ${c.bootMs} ms (${c.state})`);
      if (app.standin) console.log(`# NOTE: examples/hello-${name}/dist/app.js is not built; running the stand-in app test/e2e/fixtures/standin`);
      port = await pickPort();
      plainPort = await pickPort();
      await installExample(c, app, { port, plainPort, watchdogSec: WATCHDOG_SEC });
    });

    after(async () => {
      if (c) {
        const r = await c.stop();
        if (!r.clean) console.log(`# container stop was not clean: ${JSON.stringify(r)}`);
      }
    });

    const it = (title, fn, opts = {}) =>
      test(title, { timeout: 180_000, ...opts }, async (t) => {
        if (skip) return t.skip(skip);
        try {
          await fn(t);
        } catch (err) {
          const journal = await c.exec(['sh', '-c', 'journalctl --sync; journalctl -u hello.service -u hello.socket -u hello-plain.service -n 40 --no-pager; systemctl status --no-pager hello.socket hello.service'], { timeoutMs: 20_000 }).catch(() => ({ stdout: '' }));
          t.diagnostic(`journal and status (last 40 lines):\n${journal.stdout}`);
          throw err;
        }
      });

    it('systemctl start blocks until READY; MainPID is node itself', async (t) => {
      await resetUnits(c, 'hello.service', 'hello.socket');
      const r = await c.systemctl('start', 'hello.service', { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      // Read right after `systemctl start` returned: had it not waited for READY=1, this would be activating/start.
      const p = await c.show('hello.service', ['Type', 'NotifyAccess', 'ActiveState', 'SubState', 'StatusText', 'MainPID', 'ExecMainStartTimestampMonotonic', 'ActiveEnterTimestampMonotonic']);
      t.diagnostic(`systemctl start took ${r.ms} ms; exec-to-READY ${((p.ActiveEnterTimestampMonotonic - p.ExecMainStartTimestampMonotonic) / 1000).toFixed(0)} ms; StatusText=${JSON.stringify(p.StatusText)}`);
      assert.equal(p.Type, 'notify');
      assert.equal(p.NotifyAccess, 'main');
      assert.equal(p.ActiveState, 'active');
      assert.equal(p.SubState, 'running');
      // As sent with READY=1: where it listens, the socket's address and the fd's name.
      assert.match(p.StatusText, /"?http"?/);
      if (!app.standin) assert.ok(p.StatusText.includes(`127.0.0.1:${port}`), `StatusText should name 127.0.0.1:${port}: ${p.StatusText}`);
      const exe = await c.exec(['readlink', `/proc/${p.MainPID}/exe`], { check: true });
      const cmdline = (await c.readFile(`/proc/${p.MainPID}/cmdline`)).split('\0').filter(Boolean);
      t.diagnostic(`MainPID ${p.MainPID}: ${exe.stdout.trim()} ${cmdline.slice(1).join(' ')}`);
      assert.match(exe.stdout.trim(), /\/node$/);
      assert.equal(cmdline[1], `${app.optDir}/${app.standin ? '' : 'dist/'}app.js`);
      const res = await get(port, '/');
      assert.equal(res.status, 200);
      assert.equal(res.body.trim(), 'Hello World!');
    });

    it(`watchdog: a healthy service stays up for 3 × WatchdogSec (${3 * WATCHDOG_SEC} s): systemd keeps getting pings, same MainPID, NRestarts=0`, async (t) => {
      await resetUnits(c, 'hello.service', 'hello.socket');
      await c.systemctl('start', 'hello.service', { timeoutMs: 60_000, check: true });
      const props = ['MainPID', 'NRestarts', 'ActiveState', 'WatchdogUSec', 'WatchdogTimestampMonotonic'];
      const before = await c.show('hello.service', props);
      const timeoutsBefore = (await c.journal('hello.service')).split('\n').filter((l) => /[Ww]atchdog timeout/.test(l)).length;
      // The claim is about elapsed time itself: three full watchdog periods must pass.
      await sleep(3 * WATCHDOG_SEC * 1000);
      const after = await c.show('hello.service', props);
      const timeoutsAfter = (await c.journal('hello.service')).split('\n').filter((l) => /[Ww]atchdog timeout/.test(l)).length;
      t.diagnostic(`WatchdogUSec=${before.WatchdogUSec}; last ping seen by systemd ${((after.WatchdogTimestampMonotonic - before.WatchdogTimestampMonotonic) / 1e6).toFixed(1)} s later than at the start; MainPID ${before.MainPID} -> ${after.MainPID}`);
      assert.equal(after.ActiveState, 'active');
      assert.equal(after.MainPID, before.MainPID);
      assert.equal(after.NRestarts, '0');
      assert.equal(timeoutsAfter, timeoutsBefore, 'no new "Watchdog timeout" in the journal');
      assert.ok(Number(after.WatchdogTimestampMonotonic) - Number(before.WatchdogTimestampMonotonic) >= 2 * WATCHDOG_SEC * 1e6, 'systemd recorded pings throughout');
      assert.equal((await get(port, '/')).status, 200);
    });

    it('systemctl stop with requests in flight: STATUS draining, every request completes, Result=success, "drained"', async (t) => {
      await resetUnits(c, 'hello.service', 'hello.socket');
      await c.systemctl('start', 'hello.service', { timeoutMs: 60_000, check: true });
      const slowMs = 4000;
      const inflight = Array.from({ length: 3 }, () => get(port, `/slow?ms=${slowMs}`, { timeoutMs: 60_000 }).then((r) => ({ ...r, at: Date.now() })));
      await sleep(1000); // let the requests reach the app (generous: other suites load the CPU)
      const stopStarted = Date.now();
      const stopping = c.systemctl('stop', 'hello.service', { timeoutMs: 120_000 });
      const done = { done: false };
      stopping.finally(() => (done.done = true));
      const watch = await watchProps(c, 'hello.service', ['StatusText', 'ActiveState', 'SubState'], { until: (p) => p.ActiveState === 'inactive' || p.ActiveState === 'failed', timeoutMs: 100_000, stop: done });
      const stopped = await stopping;
      const results = await Promise.allSettled(inflight);
      const p = await c.show('hello.service', ['ActiveState', 'SubState', 'Result', 'ExecMainStatus', 'ExecMainCode']);
      t.diagnostic(`StatusText seen while stopping: ${JSON.stringify(watch.seen.StatusText)}; states ${JSON.stringify(watch.seen.SubState)}`);
      t.diagnostic(`systemctl stop took ${stopped.ms} ms; requests finished at +${results.map((r) => (r.value ? r.value.at - stopStarted : r.reason.message)).join(', +')} ms after stop; exit ${p.ExecMainCode}/${p.ExecMainStatus}`);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.ok(watch.seen.StatusText.some((s) => /^draining/.test(s)), `no draining status seen: ${JSON.stringify(watch.seen.StatusText)}`);
      for (const r of results) {
        assert.equal(r.status, 'fulfilled', `an in-flight request failed: ${r.reason?.message}`);
        assert.equal(r.value.status, 200);
        assert.equal(r.value.headers.connection, 'close', 'in-flight responses should say Connection: close');
      }
      assert.equal(p.ActiveState, 'inactive');
      assert.equal(p.Result, 'success');
      const journal = await c.journal('hello.service');
      assert.match(journal, /drained/);
    });

    for (const trigger of ['stall', 'unhealthy']) {
      const title = trigger === 'stall' ? 'a stalled event loop' : 'a failing health check';
      it(`watchdog: ${title} gets the service killed (Result watchdog) and restarted (NRestarts=1)`, async (t) => {
        await resetUnits(c, 'hello.service', 'hello.socket');
        const count = (text, re) => text.split('\n').filter((l) => re.test(l)).length;
        const timeoutRe = /[Ww]atchdog timeout/;
        const resultRe = /Failed with result 'watchdog'/;
        const journalBefore = await c.journal('hello.service');
        await c.systemctl('start', 'hello.service', { timeoutMs: 60_000, check: true });
        const before = await c.show('hello.service', ['MainPID', 'NRestarts', 'WatchdogUSec']);
        assert.equal(before.NRestarts, '0');
        const started = Date.now();
        const path = trigger === 'stall' ? `/stall?ms=${WATCHDOG_SEC * 4000}` : '/unhealthy';
        const hit = get(port, path, { timeoutMs: 60_000 }).catch((e) => ({ error: e.code ?? e.message }));
        const watch = await watchProps(c, 'hello.service', ['Result', 'SubState', 'NRestarts'], { until: (p) => p.NRestarts === '1' && p.SubState === 'running', timeoutMs: 60_000 });
        const ms = Date.now() - started;
        const after = await c.show('hello.service', ['MainPID', 'NRestarts', 'ActiveState', 'SubState']);
        const journal = await c.journal('hello.service');
        t.diagnostic(`WatchdogUSec=${before.WatchdogUSec}; killed and back in ${ms} ms; Result seen ${JSON.stringify(watch.seen.Result)}; states ${JSON.stringify(watch.seen.SubState)}; MainPID ${before.MainPID} -> ${after.MainPID}; the request: ${JSON.stringify(await hit).slice(0, 80)}`);
        assert.equal(after.NRestarts, '1');
        assert.equal(after.ActiveState, 'active');
        assert.notEqual(after.MainPID, before.MainPID);
        assert.equal(count(journal, timeoutRe), count(journalBefore, timeoutRe) + 1, 'one new "Watchdog timeout" in the journal');
        assert.equal(count(journal, resultRe), count(journalBefore, resultRe) + 1, `one new "Failed with result 'watchdog'" in the journal`);
        const res = await get(port, '/');
        assert.equal(res.status, 200);
      });
    }

    it('socket activation: the first connection starts the hardened service, which runs with no capabilities', async (t) => {
      await resetUnits(c, 'hello.service', 'hello.socket');
      await c.systemctl('start', 'hello.socket', { timeoutMs: 30_000, check: true });
      const idle = await c.show('hello.service', ['ActiveState']);
      assert.equal(idle.ActiveState, 'inactive', 'the service must not run before the first connection');
      const sock = await c.show('hello.socket', ['ActiveState', 'SubState', 'Listen', 'FileDescriptorName']);
      assert.equal(sock.SubState, 'listening');
      assert.equal(sock.FileDescriptorName, 'http');
      const started = Date.now();
      const res = await get(port, '/');
      const firstMs = Date.now() - started;
      assert.equal(res.status, 200);
      assert.equal(res.body.trim(), 'Hello World!');
      const p = await c.show('hello.service', ['ActiveState', 'SubState', 'MainPID', 'TriggeredBy', 'DynamicUser', 'PrivateNetwork']);
      assert.equal(p.ActiveState, 'active');
      assert.equal(p.SubState, 'running');
      assert.match(p.TriggeredBy, /hello\.socket/);
      const status = await c.readFile(`/proc/${p.MainPID}/status`);
      const field = (k) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1];
      t.diagnostic(`first request through ${sock.Listen} answered in ${firstMs} ms (includes the start); Uid ${field('Uid')}; CapEff ${field('CapEff')} CapPrm ${field('CapPrm')} CapBnd ${field('CapBnd')}; PrivateNetwork=${p.PrivateNetwork}`);
      assert.notEqual(field('Uid').split(/\s+/)[0], '0', 'DynamicUser: not root');
      for (const cap of ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb']) assert.equal(field(cap), '0000000000000000', `${cap} must be empty`);
      assert.equal(p.PrivateNetwork, 'yes');
    });

    it(`zero-downtime restart: ${connections} keep-alive clients for ${loadSeconds} s while systemctl restart runs ${restarts} times${contrast ? '; plain-port contrast' : ''}`, async (t) => {
      const variants = [];
      const runVariant = async (setup, unit, units, loadPort) => {
        await resetUnits(c, 'hello.service', 'hello.socket', 'hello-plain.service');
        await c.systemctl('start', ...units, { timeoutMs: 60_000, check: true });
        await c.waitForProps(unit, { ActiveState: 'active' }, { timeoutMs: 30_000 });
        assert.equal((await get(loadPort, '/')).status, 200);
        const [load, rs] = await Promise.all([
          runLoad({ port: loadPort, connections, durationMs: loadSeconds * 1000 }),
          restartsDuring(c, unit, { times: restarts, firstAfterMs: 1500, everyMs: Math.floor((loadSeconds * 1000 - 3000) / restarts) }),
        ]);
        const final = await c.show(unit, ['ActiveState', 'SubState', 'NRestarts']);
        const v = { setup, unit, load, restarts: rs, final };
        variants.push(v);
        t.diagnostic(`${setup}: ${load.requests} requests, ${load.ok} 2xx, ${load.non2xx} non-2xx, ${load.errors} errors ${JSON.stringify(load.errorCodes)}; restarts took ${rs.map((r) => r.ms).join(', ')} ms; MainPIDs ${[rs[0]?.oldPid, ...rs.map((r) => r.newPid)].join(' -> ')}`);
        return v;
      };
      const sock = await runVariant('socket unit', 'hello.service', ['hello.socket', 'hello.service'], port);
      const plain = contrast ? await runVariant('plain port', 'hello-plain.service', ['hello-plain.service'], plainPort) : undefined;
      await resetUnits(c, 'hello-plain.service');
      recordResults(`restart-${name}-${systemd}`, {
        kind: 'restart',
        date: new Date().toISOString().slice(0, 10),
        systemd: c.systemdVersion,
        app: `hello-${name}`,
        standin: app.standin,
        variants,
      });
      for (const r of sock.restarts) {
        assert.equal(r.code, 0, `systemctl restart failed: ${r.stderr}`);
        assert.notEqual(r.newPid, r.oldPid, 'each restart starts a new main process');
        assert.equal(r.state, 'active/running');
      }
      assert.equal(sock.load.errors, 0, `errors with the socket unit: ${JSON.stringify(sock.load.errorCodes)}`);
      assert.equal(sock.load.non2xx, 0, `non-2xx with the socket unit: ${JSON.stringify(sock.load.statusCodes)}`);
      assert.ok(sock.load.ok > 0);
      if (plain) t.diagnostic(`contrast (plain port, not asserted): ${plain.load.errors + plain.load.non2xx} failures of ${plain.load.requests}`);
    });
  });
}

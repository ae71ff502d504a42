// Cluster mode under a real systemd: the Fastify and Express examples, unchanged,
// as 2 workers of a runCluster() primary (fixtures/cluster/primary.js) in the
// shipped hardened hello.service behind hello.socket. Each release of the app is a
// directory /opt/cluster/releases/N.0.0 (a package.json with that version and a
// worker.js that runs the example, tagging responses with X-App-Version);
// /opt/cluster/current points to one of them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { bootSuiteContainer, exampleApp, get, inContainer, installExample, pickPort, recordResults, repo, resetUnits, restartsDuring, runLoad, sleep } from './lib.mjs';

const RELOADS = 5;
const CONNECTIONS = 10;
const primaryScript = inContainer(`${repo}/test/e2e/fixtures/cluster/primary.js`);
const releaseScript = inContainer(`${repo}/test/e2e/fixtures/cluster/release.js`);

/** Children of a process inside the container (its workers). */
async function childrenOf(c, pid) {
  const text = await c.readFile(`/proc/${pid}/task/${pid}/children`).catch(() => '');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

async function writeRelease(c, app, version) {
  const dir = `/opt/cluster/releases/${version}`;
  await c.writeFile(`${dir}/package.json`, `${JSON.stringify({ name: `cluster-${app.name}`, version })}\n`);
  await c.writeFile(`${dir}/worker.js`, `require(${JSON.stringify(releaseScript)})(${JSON.stringify(`${app.optDir}/dist/app.js`)}, require('./package.json').version);\n`);
}

const switchTo = (c, version) => c.exec(['ln', '-sfn', `/opt/cluster/releases/${version}`, '/opt/cluster/current'], { check: true });

/** systemd: '252' (ExecReload=kill -HUP) or '257' (Type=notify-reload: `systemctl reload` waits for the roll). */
export function defineClusterSuite({ systemd = '252', frameworks = ['fastify', 'express'], loadSeconds = 12 } = {}) {
  const notifyReload = systemd !== '252';
  describe(`cluster mode (2 workers) under systemd ${systemd}`, { concurrency: false }, () => {
    let c;
    let skip = false;

    before(async () => {
      const booted = await bootSuiteContainer('cluster', systemd);
      if (booted.skip) return (skip = booted.skip);
      c = booted.c;
    });

    after(async () => {
      if (c) await c.stop();
    });

    for (const name of frameworks) {
      const app = exampleApp(name);
      let port;
      const it = (title, fn) =>
        test(`hello-${name}: ${title}`, { timeout: 180_000 }, async (t) => {
          if (skip) return t.skip(skip);
          try {
            await fn(t);
          } catch (err) {
            const journal = await c.exec(['sh', '-c', 'journalctl --sync; journalctl -u hello.service -n 60 --no-pager; systemctl status --no-pager hello.service'], { timeoutMs: 20_000 }).catch(() => ({ stdout: '' }));
            t.diagnostic(`journal and status:\n${journal.stdout}`);
            throw err;
          }
        });

      it('installed: the primary is the main PID, READY=1 once both workers listen', async (t) => {
        port = await pickPort();
        for (let i = 1; i <= RELOADS + 1; i++) await writeRelease(c, app, `${i}.0.0`);
        await switchTo(c, '1.0.0');
        const reload = notifyReload ? 'Type=notify-reload\n' : 'ExecReload=/bin/kill -HUP $MAINPID\n';
        const extraService = `ExecStart=\nExecStart=/usr/bin/node ${primaryScript}\nEnvironment=CLUSTER_WORKER=/opt/cluster/current/worker.js CLUSTER_WORKERS=2\n${reload}`;
        await installExample(c, app, { port, watchdogSec: 3, extraService });
        await resetUnits(c, 'hello.service', 'hello.socket');
        const r = await c.systemctl('start', 'hello.socket', 'hello.service', { timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        const p = await c.show('hello.service', ['Type', 'ActiveState', 'SubState', 'StatusText', 'MainPID']);
        t.diagnostic(`systemctl start took ${r.ms} ms; Type=${p.Type}; StatusText=${JSON.stringify(p.StatusText)}`);
        assert.equal(p.ActiveState, 'active');
        assert.match(p.StatusText, /^2\/2 workers ready, version 1\.0\.0$/);
        const cmdline = (await c.readFile(`/proc/${p.MainPID}/cmdline`)).split('\0').filter(Boolean);
        assert.equal(cmdline[1], primaryScript);
        assert.equal((await childrenOf(c, p.MainPID)).length, 2);
        const res = await get(port, '/');
        assert.equal(res.status, 200);
        assert.equal(res.body.trim(), 'Hello World!');
        assert.equal(res.headers['x-app-version'], '1.0.0');
      });

      it(`${RELOADS} × systemctl reload, each to a new release on disk, under ${CONNECTIONS} keep-alive clients: 0 failed, only the new version answers after each`, async (t) => {
        const answers = [];
        const done = [];
        let finishedAt = Infinity;
        const load = runLoad({
          port,
          connections: CONNECTIONS,
          durationMs: 120_000,
          onResponse: (res, sentAt) => answers.push([sentAt, res.headers['x-app-version']]),
          // A second of load after the last reload completed, for the last version's answers.
          stopWhen: () => Date.now() > finishedAt + 1000,
        });
        const reloads = [];
        await sleep(1000);
        for (let i = 2; i <= RELOADS + 1; i++) {
          const version = `${i}.0.0`;
          await switchTo(c, version);
          const before = await c.show('hello.service', ['MainPID']);
          const r = await c.systemctl('reload', 'hello.service', { timeoutMs: 60_000 });
          assert.equal(r.code, 0, r.stderr);
          // Under notify-reload the roll is over when `systemctl reload` returns; under kill -HUP, once STATUS= says so.
          const right = await c.show('hello.service', ['StatusText']);
          if (notifyReload) assert.match(right.StatusText, new RegExp(`^2/2 workers ready, version ${version.replace(/\./g, '\\.')}$`), 'the reload returned after the roll');
          else await c.waitForProps('hello.service', { StatusText: `2/2 workers ready, version ${version}` }, { timeoutMs: 30_000 });
          done.push([Date.now(), i]);
          const now = await c.show('hello.service', ['MainPID', 'NRestarts', 'ActiveState']);
          reloads.push({ version, ms: r.ms, statusRightAfter: right.StatusText });
          assert.equal(now.MainPID, before.MainPID, 'a reload keeps the primary');
          assert.equal(now.NRestarts, '0');
          await sleep(800);
        }
        finishedAt = Date.now();
        const stats = await load;
        const stale = answers.filter(([sentAt, version]) => done.some(([at, i]) => sentAt > at && Number.parseInt(version, 10) < i));
        t.diagnostic(`${stats.requests} requests, ${stats.ok} 2xx, ${stats.errors} errors ${JSON.stringify(stats.errorCodes)}, ${stats.non2xx} non-2xx; reloads took ${reloads.map((r) => r.ms).join(', ')} ms; stale answers ${stale.length}`);
        recordResults(`cluster-${name}-${systemd}`, { kind: 'cluster', date: new Date().toISOString().slice(0, 10), systemd: c.systemdVersion, app: `hello-${name}`, reload: { load: stats, reloads, stale: stale.length } });
        assert.equal(stats.errors, 0, JSON.stringify(stats.errorCodes));
        assert.equal(stats.non2xx, 0, JSON.stringify(stats.statusCodes));
        assert.equal(stale.length, 0, `answers from an old version after a reload completed: ${JSON.stringify(stale.slice(0, 5))}`);
        assert.ok(answers.some(([, version]) => version === `${RELOADS + 1}.0.0`));
      });

      it(`5 × systemctl restart under ${CONNECTIONS} keep-alive clients: 0 failed`, async (t) => {
        const [stats, restarts] = await Promise.all([
          runLoad({ port, connections: CONNECTIONS, durationMs: loadSeconds * 1000 }),
          restartsDuring(c, 'hello.service', { times: 5, firstAfterMs: 1000, everyMs: Math.floor((loadSeconds * 1000 - 2500) / 5) }),
        ]);
        t.diagnostic(`${stats.requests} requests, ${stats.errors} errors ${JSON.stringify(stats.errorCodes)}, ${stats.non2xx} non-2xx; restarts took ${restarts.map((r) => r.ms).join(', ')} ms`);
        recordResults(`cluster-restart-${name}-${systemd}`, { kind: 'restart', date: new Date().toISOString().slice(0, 10), systemd: c.systemdVersion, app: `hello-${name} cluster (2 workers)`, variants: [{ setup: 'socket unit', load: stats, restarts }] });
        for (const r of restarts) {
          assert.equal(r.code, 0, r.stderr);
          assert.notEqual(r.newPid, r.oldPid);
        }
        assert.equal(stats.errors, 0, JSON.stringify(stats.errorCodes));
        assert.equal(stats.non2xx, 0, JSON.stringify(stats.statusCodes));
      });

      it('kill -STOP of one worker: it is replaced, the service is never restarted (NRestarts=0)', async (t) => {
        const before = await c.show('hello.service', ['MainPID', 'NRestarts']);
        const workers = await childrenOf(c, before.MainPID);
        assert.equal(workers.length, 2);
        const stopped = workers[0];
        const started = Date.now();
        // sh's own kill: the Debian 13 minbase root has no kill binary.
        await c.exec(['sh', '-c', `kill -STOP ${stopped}`], { check: true });
        // Replaced once the stopped worker is gone and two workers run again.
        let now = workers;
        while (Date.now() - started < 30_000) {
          now = await childrenOf(c, before.MainPID);
          if (now.length === 2 && !now.includes(stopped)) break;
          await sleep(100);
        }
        const after = await c.show('hello.service', ['MainPID', 'NRestarts', 'ActiveState', 'StatusText']);
        t.diagnostic(`worker ${stopped} stopped; replaced in ${Date.now() - started} ms; workers ${workers.join(',')} -> ${now.join(',')}; StatusText=${JSON.stringify(after.StatusText)}`);
        assert.ok(!now.includes(stopped) && now.length === 2, `workers now ${now.join(',')}`);
        assert.equal(after.MainPID, before.MainPID);
        assert.equal(after.NRestarts, '0');
        assert.equal(after.ActiveState, 'active');
        await c.waitForProps('hello.service', { StatusText: `2/2 workers ready, version ${RELOADS + 1}.0.0` }, { timeoutMs: 20_000 });
        assert.match(await c.journal('hello.service'), new RegExp(`worker ${stopped} sent no heartbeat`));
        assert.equal((await get(port, '/')).status, 200);
      });

      it('systemctl stop: every worker drains, Result=success', async (t) => {
        const r = await c.systemctl('stop', 'hello.service', { timeoutMs: 60_000 });
        const p = await c.show('hello.service', ['ActiveState', 'Result', 'ExecMainStatus']);
        t.diagnostic(`systemctl stop took ${r.ms} ms; exit status ${p.ExecMainStatus}`);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(p.ActiveState, 'inactive');
        assert.equal(p.Result, 'success');
        assert.equal(p.ExecMainStatus, '0');
        assert.match(await c.journal('hello.service'), /cluster: drained \(2 workers\)/);
        await resetUnits(c, 'hello.service', 'hello.socket');
      });
    }
  });
}

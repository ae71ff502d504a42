// The fd-store handover across a restart, the watchdog with the app's health
// check, and the exit code of a forced drain, per framework and major.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeNotifyManager, spawnWithListenFds } from '@node-systemd/notify/testing';
import { FRAMEWORKS, hello, startApp, type Framework } from './harness.js';

const selected = (process.env.NSD_FRAMEWORKS?.split(',') as Framework[] | undefined) ?? FRAMEWORKS;

for (const framework of selected) {
  test(`${framework}: fdStore keeps the listening socket in the store; the next process listens on it by name`, { timeout: 30_000 }, async () => {
    const first = await startApp(framework, 'port', { FDSTORE: '1' });
    const manager = await FakeNotifyManager.start();
    let second: ReturnType<typeof spawnWithListenFds> | undefined;
    try {
      const stored = await first.manager.waitFor((m) => m.fields.FDSTORE === '1');
      assert.equal(stored.fields.FDNAME, 'http');
      assert.equal(stored.fds.length, 1);
      const port = 'port' in first.target ? first.target.port : 0;
      first.child.kill('SIGTERM');
      assert.equal((await first.exited).code, 0);
      // The restart: the stored fd comes back as fd 3 with LISTEN_FDNAMES=http.
      second = spawnWithListenFds(process.execPath, [join(__dirname, 'fixtures', 'app.cjs')], [{ fd: stored.fds[0]!, fdName: 'http' }], {
        env: { ...process.env, ...manager.env(), FRAMEWORK: framework, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      createInterface({ input: second.stdout! }).on('line', () => {});
      const ready = await manager.waitFor('READY', { timeoutMs: 20_000 });
      assert.equal(ready.pid, second.pid);
      assert.match(ready.fields.STATUS!, new RegExp(`^listening on 127\\.0\\.0\\.1:${port} \\(socket-activated fd 3 "http"\\)$`));
      assert.equal(await hello(port), 'Hello World!');
    } finally {
      second?.kill('SIGKILL');
      manager.close();
      first.stop();
    }
  });

  test(`${framework}: the watchdog starts by itself and withholds pings once the health check fails`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { WATCHDOG_USEC: '200000' });
    try {
      const pid = app.child.pid;
      await app.manager.waitFor((m) => m.fields.WATCHDOG === '1' && m.pid === pid);
      assert.equal(await hello((app.target as { port: number }).port, '/unhealthy'), 'false');
      const after = app.manager.messages.length;
      // A check already running may still ping once; then pings stop (interval 100 ms).
      await new Promise((resolve) => setTimeout(resolve, 800));
      const pings = app.manager.messages.slice(after).filter((m) => m.fields.WATCHDOG === '1').length;
      assert.ok(pings <= 1, `${pings} pings after the health check failed`);
    } finally {
      app.stop();
    }
  });

  test(`${framework}: a drain cut short by the grace period exits with forcedExitCode`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { GRACE_MS: '300', FORCED_EXIT_CODE: '3' });
    try {
      const port = (app.target as { port: number }).port;
      const hung = hello(port, '/slow?ms=60000').catch((error: NodeJS.ErrnoException) => error.code);
      await app.waitLine('slow 1');
      app.child.kill('SIGTERM');
      assert.equal((await app.exited).code, 3);
      assert.equal(await hung, 'ECONNRESET');
      assert.equal(app.manager.valuesOf('STATUS').at(-1), 'drained (forced after the grace period)');
    } finally {
      app.stop();
    }
  });
}

// The other acceptance behaviours, per framework and major, on a port: SIGTERM
// during start-up, an app with its own SIGTERM listener, shutdown() without
// signals, SIGHUP reload, and a streaming response caught by SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { FRAMEWORKS, lifecycleOrder, startApp, startLoadClient, type Framework, type Target } from './harness.js';

const selected = (process.env.NSD_FRAMEWORKS?.split(',') as Framework[] | undefined) ?? FRAMEWORKS;
/** One GET on a fresh connection: status and body. */
function fetchPath(target: Target, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const where = 'port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.path };
    get({ ...where, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const has = (fields: Readonly<Record<string, string>>[], key: string, value?: string): boolean =>
  fields.some((f) => key in f && (value === undefined || f[key] === value));

for (const framework of selected) {
  test(`${framework}: SIGTERM during start-up (before listen) exits 0 without READY`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { START_DELAY_MS: '20000' }, { waitReady: false });
    try {
      await app.waitLine('starting');
      app.child.kill('SIGTERM');
      const exit = await app.exited;
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
      const fields = app.manager.messages.map((m) => m.fields);
      assert.equal(has(fields, 'READY'), false, JSON.stringify(fields));
      assert.ok(has(fields, 'STOPPING', '1') && has(fields, 'STATUS', 'drained'), JSON.stringify(fields));
    } finally {
      app.stop();
    }
  });

  test(`${framework}: an app with its own SIGTERM listener and exit: false is drained but not exited by the library`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { OWN_SIGTERM: '1', EXIT: 'false' });
    try {
      app.child.kill('SIGTERM');
      await app.waitLine('app-sigterm');
      await app.manager.waitFor('STATUS', { value: 'drained' });
      await app.waitLine('drained');
      app.send('ping');
      await app.waitLine('pong');
      assert.equal(app.child.exitCode, null, 'still running after the drain');
      app.send('exit');
      assert.equal((await app.exited).code, 0);
    } finally {
      app.stop();
    }
  });

  test(`${framework}: shutdown() without signal handlers drains in order`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { NO_SIGNALS: '1' });
    try {
      app.send('shutdown');
      await app.waitLine('shutdown-done');
      assert.equal((await app.exited).code, 0);
      const order = lifecycleOrder(app.manager);
      assert.ok(order.ready >= 0 && order.ready < order.stopping && order.stopping < order.drained, order.all);
    } finally {
      app.stop();
    }
  });

  test(`${framework}: SIGHUP with a reload function: RELOADING=1 + MONOTONIC_USEC, then READY=1`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { RELOAD: '1' });
    try {
      const before = app.manager.messages.length;
      app.child.kill('SIGHUP');
      const reloading = await app.manager.waitFor('RELOADING', { from: before });
      // Both processes read CLOCK_MONOTONIC: process.hrtime.bigint() in µs.
      const skewUsec = reloading.receivedAt / 1000n - BigInt(reloading.fields.MONOTONIC_USEC!);
      console.log(`# ${framework}: MONOTONIC_USEC was ${skewUsec} µs before the datagram was read`);
      assert.ok(skewUsec >= 0n && skewUsec < 1_000_000n, `MONOTONIC_USEC off by ${skewUsec} µs`);
      await app.waitLine('reload-ran');
      await app.manager.waitFor('READY', { from: app.manager.messages.indexOf(reloading) + 1 });
      app.child.kill('SIGTERM');
      assert.equal((await app.exited).code, 0);
    } finally {
      app.stop();
    }
  });

  test(`${framework}: a streaming response whose headers went out before SIGTERM completes, then its socket closes`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port');
    const client = await startLoadClient(app.target);
    try {
      const streamed = client.call<{ status: number; body: string; ended: boolean; socketClosed: boolean; connection: string }>('stream');
      await app.waitLine('stream-started');
      app.child.kill('SIGTERM');
      // keepAliveTimeout is 10 minutes in the fixture: a close now is the drain's doing.
      const result = await streamed;
      assert.deepEqual(
        { status: result.status, body: result.body, ended: result.ended, socketClosed: result.socketClosed },
        { status: 200, body: 'first last', ended: true, socketClosed: true },
      );
      assert.equal((await app.exited).code, 0);
    } finally {
      client.stop();
      app.stop();
    }
  });

  test(`${framework}: during shutdownDelayMs /readyz answers 503 while new requests still succeed; /livez follows the health check`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework, 'port', { PROBES: '1', SHUTDOWN_DELAY_MS: '60000' });
    try {
      assert.deepEqual(await fetchPath(app.target, '/readyz'), { status: 200, body: 'ready' });
      assert.deepEqual(await fetchPath(app.target, '/livez'), { status: 200, body: 'ok' });
      app.child.kill('SIGTERM');
      await app.manager.waitFor('STOPPING');
      assert.deepEqual(await fetchPath(app.target, '/readyz'), { status: 503, body: 'draining' });
      assert.deepEqual(await fetchPath(app.target, '/'), { status: 200, body: 'Hello World!' });
      assert.deepEqual(await fetchPath(app.target, '/livez'), { status: 200, body: 'ok' });
      await fetchPath(app.target, '/unhealthy');
      assert.deepEqual(await fetchPath(app.target, '/livez'), { status: 503, body: 'unhealthy: the health check returned false' });
      assert.match(app.manager.valuesOf('STATUS').at(-1)!, /^stopping: accepting for 60000 ms more/);
    } finally {
      app.stop();
    }
  });
}

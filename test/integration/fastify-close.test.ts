// fastify.close() called by the app itself, with 20 requests in flight and a
// 10-minute keepAliveTimeout: with the plugin it neither waits out
// keepAliveTimeout (fastify #7044, 4.29 and 5.12) nor destroys the requests
// (5.9.0-5.11.0). The control shows 5.10.0 destroying them without the plugin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lifecycleOrder, startApp, startLoadClient, type Framework } from './harness.js';

const IN_FLIGHT = 20;

for (const framework of ['fastify4', 'fastify510', 'fastify5'] as Array<Framework | 'fastify510'>) {
  test(`${framework}: the app's own fastify.close() lets ${IN_FLIGHT} in-flight requests finish with Connection: close and does not wait for keepAliveTimeout`, { timeout: 30_000 }, async () => {
    const app = await startApp(framework as Framework, 'port', { NO_SIGNALS: '1' });
    const client = await startLoadClient(app.target);
    try {
      const done = client.next<{ replies: Array<{ status?: number; connection?: string; error?: string }> }>('inflight-done');
      await client.call('inflight', { n: IN_FLIGHT, path: `/slow?ms=500&group=${IN_FLIGHT}` });
      await app.waitLine(`slow ${IN_FLIGHT}`);
      app.send('close');
      const { replies } = await done;
      await app.waitLine('closed');
      assert.deepEqual(replies.filter((r) => r.error !== undefined || r.status !== 200), []);
      assert.deepEqual(replies.map((r) => r.connection), new Array(IN_FLIGHT).fill('close'));
      assert.equal((await app.exited).code, 0);
      const order = lifecycleOrder(app.manager);
      assert.ok(order.ready >= 0 && order.ready < order.stopping && order.stopping < order.drained, order.all);
    } finally {
      client.stop();
      app.stop();
    }
  });
}

test('control: fastify 5.10.0 without the plugin destroys in-flight requests on close()', { timeout: 30_000 }, async () => {
  const Fastify = require('fastify510') as typeof import('fastify').default;
  const app = Fastify();
  app.get('/slow', async () => new Promise((resolve) => setTimeout(() => resolve('slow'), 400)));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });
  const outcomes = Array.from(
    { length: 5 },
    () =>
      new Promise<string>((resolve) => {
        get({ host: '127.0.0.1', port, path: '/slow', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      }),
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  await app.close();
  const results = await Promise.all(outcomes);
  console.log(`# fastify 5.10.0 without the plugin: ${JSON.stringify(results)}`);
  assert.ok(results.some((result) => result !== '200'), 'the regression this plugin works around is visible');
  agent.destroy();
});

// Recipes for frameworks without an adapter, each run through the acceptance
// drain: NestJS 12 on its Express and Fastify platforms with enableShutdownHooks()
// (a second SIGTERM listener), and Hono on @hono/node-server. 20 in-flight
// 500 ms requests and 50 idle keep-alive connections, then SIGTERM: READY,
// STOPPING + draining, drained, exit 0, no in-flight request failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lifecycleOrder, startApp, startLoadClient, type Framework } from './harness.js';

const IDLE = 50;
const IN_FLIGHT = 20;

for (const recipe of ['nest-express', 'nest-fastify', 'hono'] as const) {
  test(`${recipe}: READY, SIGTERM -> STOPPING + draining -> drained, exit 0, ${IN_FLIGHT} in flight all answered`, { timeout: 60_000 }, async () => {
    const app = await startApp(recipe as Framework, 'port');
    const client = await startLoadClient(app.target);
    try {
      const idle = await client.call<{ failed: number; replies: number }>('idle', { n: IDLE });
      assert.deepEqual({ failed: idle.failed, replies: idle.replies }, { failed: 0, replies: IDLE });
      const done = client.next<{ replies: Array<{ status?: number; error?: string }> }>('inflight-done');
      await client.call('inflight', { n: IN_FLIGHT, path: `/slow?ms=500&group=${IN_FLIGHT}` });
      await app.waitLine(`slow ${IN_FLIGHT}`);
      app.child.kill('SIGTERM');
      const { replies } = await done;
      const exit = await app.exited;
      assert.deepEqual(replies.filter((r) => r.error !== undefined || r.status !== 200), [], 'no in-flight request failed');
      assert.equal(replies.length, IN_FLIGHT);
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
      assert.ok(app.manager.messages.some((m) => m.fields.STOPPING === '1' && m.fields.STATUS === 'draining'), 'STOPPING=1 + STATUS=draining');
      const order = lifecycleOrder(app.manager);
      assert.ok(order.ready >= 0 && order.ready < order.stopping && order.stopping < order.drained, order.all);
    } finally {
      client.stop();
      app.stop();
    }
  });
}

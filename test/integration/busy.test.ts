// Busy keep-alive clients during the drain: a request written on an
// open connection is answered (with Connection: close) or finds the port
// refused; never a reset or a connection closed under it. Closing idle sockets at
// once, as server.close() does since Node 19, fails this about once per client
// (NSD_LINGER_MS=0 shows it).
//
// The guarantee holds while a client answers a response with its next request
// within idleLingerMs. On this 2-core machine with three test suites running at
// once the load client was seen starved for longer than the default 250 ms (8
// resets in one run), so the test uses 2000 ms: it checks the mechanism, not how
// slow a client may be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAMEWORKS, startApp, startLoadClient, type Framework } from './harness.js';

const CLIENTS = 8;
const selected = (process.env.NSD_FRAMEWORKS?.split(',') as Framework[] | undefined) ?? FRAMEWORKS;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const framework of selected) {
  test(`${framework}: ${CLIENTS} busy keep-alive clients through SIGTERM: no reset, no request lost on an open connection`, { timeout: 60_000 }, async () => {
    const app = await startApp(framework, 'port', { IDLE_LINGER_MS: process.env.NSD_LINGER_MS ?? '2000' });
    const client = await startLoadClient(app.target);
    try {
      await client.call('busy', { clients: CLIENTS });
      await sleep(300);
      app.child.kill('SIGTERM');
      const exit = await app.exited;
      const result = await client.call<{ ok: number; closeHeaders: number; outcomes: Record<string, number> }>('busyStop');
      console.log(`# ${framework}: ${result.ok} answered (${result.closeHeaders} with Connection: close), after the drain: ${JSON.stringify(result.outcomes)}`);
      assert.equal(exit.code, 0);
      const lost = Object.entries(result.outcomes).filter(([outcome]) => outcome !== 'ECONNREFUSED');
      assert.deepEqual(lost, [], 'only refusals once the listener closed');
      assert.ok(result.ok > 0 && result.closeHeaders > 0, 'the clients were busy through the drain');
    } finally {
      client.stop();
      app.stop();
    }
  });
}

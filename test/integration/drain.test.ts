// The acceptance scenario, per framework and major, on a port and under the real
// systemd-socket-activate (TCP and unix socket): 200 idle keep-alive connections
// and 20 in-flight 500 ms requests from another process, then SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAMEWORKS, lifecycleOrder, listeningSockets, ms, startApp, startLoadClient, type Framework, type Transport } from './harness.js';

const IDLE = 200;
const IN_FLIGHT = 20;
const selected = (process.env.NSD_FRAMEWORKS?.split(',') as Framework[] | undefined) ?? FRAMEWORKS;
const timings: string[] = [];

interface Reply {
  status?: number;
  connection?: string;
  body?: string;
  error?: string;
}

async function scenario(framework: Framework, transport: Transport): Promise<void> {
  const app = await startApp(framework, transport);
  const client = await startLoadClient(app.target);
  try {
    // One listening socket: the passed fd, or the port; never a second bind.
    assert.equal(listeningSockets(app.child.pid!), 1);
    const idle = await client.call<{ failed: number; replies: number; opened: number }>('idle', { n: IDLE });
    assert.deepEqual({ failed: idle.failed, replies: idle.replies }, { failed: 0, replies: IDLE });
    const done = client.next<{ replies: Reply[] }>('inflight-done');
    await client.call('inflight', { n: IN_FLIGHT, path: `/slow?ms=500&group=${IN_FLIGHT}` });
    await app.waitLine(`slow ${IN_FLIGHT}`);
    const sigterm = process.hrtime.bigint();
    app.child.kill('SIGTERM');
    await app.manager.waitFor((m) => m.fields.STOPPING === '1');
    // On a port, a second SIGTERM must not cut the drain short.
    if (transport === 'port') app.child.kill('SIGTERM');
    const probe = await client.call<string>('probe');
    const { replies } = await done;
    const exit = await app.exited;
    timings.push(`${framework.padEnd(9)} ${transport.padEnd(14)} SIGTERM-to-exit ${ms(sigterm, exit.at).toFixed(0)} ms`);

    const failed = replies.filter((r) => r.error !== undefined || r.status !== 200);
    assert.deepEqual(failed, [], 'no in-flight request failed');
    assert.deepEqual(replies.map((r) => r.connection), new Array(IN_FLIGHT).fill('close'), 'every in-flight response said Connection: close');
    assert.ok(probe === 'refused' || probe === 'queued', `a connection during the drain was ${probe}`);
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    const counts = await client.call<{ idleOpened: number; idleClosed: number }>('counts');
    assert.equal(counts.idleClosed, counts.idleOpened, 'every idle keep-alive connection was closed by the server');
    const order = lifecycleOrder(app.manager);
    assert.ok(order.ready >= 0 && order.ready < order.stopping && order.stopping < order.drained, order.all);
    if (transport !== 'port') assert.match(app.readyStatus, /socket-activated fd 3 "http"/);
  } finally {
    client.stop();
    app.stop();
  }
}

for (const framework of selected) {
  for (const transport of ['port', 'activate-tcp', 'activate-unix'] as const) {
    test(`${framework} on ${transport}: 200 idle + 20 in flight, SIGTERM: nothing lost, Connection: close, exit 0, READY -> STOPPING -> drained`, { timeout: 60_000 }, () =>
      scenario(framework, transport),
    );
  }
}

test.after(() => {
  console.log(`\n# SIGTERM-to-exit (${IDLE} idle keep-alive + ${IN_FLIGHT} in-flight 500 ms requests; not asserted)\n${timings.map((t) => `#   ${t}`).join('\n')}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { Notifier, createLifecycle, isNotifyError } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { closed, get, indexOf, rig, sleep } from './lifecycle-helpers.js';

test('success: READY=1 once listening, with STATUS= saying where', { timeout: 20_000 }, async () => {
  const r = await rig((_req, res) => res.end('ok'));
  try {
    const message = await r.manager.waitFor('READY');
    assert.equal(message.fields.STATUS, `listening on 127.0.0.1:${r.port}`);
    assert.equal(r.lifecycle.state, 'ready');
    assert.equal(r.lifecycle.isAcceptingTraffic(), true);
    assert.deepEqual(r.lifecycle.readiness(), { statusCode: 200, state: 'ready' });
  } finally {
    r.close();
  }
});

test('success: shutdown() drains without signals: Connection: close in flight, idle sockets closed, drained last', { timeout: 20_000 }, async () => {
  const r = await rig((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 400);
    else res.end('fast');
  });
  const agent = new Agent({ keepAlive: true });
  try {
    const idle = await get(r.port, '/', agent);
    assert.equal(idle.connection, 'keep-alive');
    const states: string[] = [];
    r.lifecycle.on('state', (state: string) => states.push(state));
    const inFlight = get(r.port, '/slow', new Agent({ keepAlive: true }));
    await sleep(100);
    const exitsBefore = process.listenerCount('SIGTERM');
    await r.lifecycle.shutdown('test');
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(reply.connection, 'close');
    await closed(idle.socket);
    assert.deepEqual(states, ['draining', 'drained']);
    assert.equal(r.lifecycle.forced, false);
    assert.equal(process.listenerCount('SIGTERM'), exitsBefore);
    const ready = indexOf(r.manager, (f) => f.READY === '1');
    const stopping = indexOf(r.manager, (f) => f.STOPPING === '1' && f.STATUS === 'draining');
    const drained = indexOf(r.manager, (f) => f.STATUS === 'drained');
    assert.ok(ready >= 0 && ready < stopping && stopping < drained, JSON.stringify(r.manager.messages.map((m) => m.fields)));
    assert.equal(r.lifecycle.readiness().statusCode, 503);
  } finally {
    agent.destroy();
    r.close();
  }
});

test('success: a request arriving on an idle socket during the drain is served with Connection: close', { timeout: 20_000 }, async () => {
  const r = await rig((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 300);
    else res.end('fast');
  }, { idleLingerMs: 2000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await get(r.port, '/', agent);
    const holder = get(r.port, '/slow', new Agent({ keepAlive: true }));
    await sleep(50);
    const drained = r.lifecycle.shutdown();
    await sleep(50);
    const second = await get(r.port, '/', agent);
    assert.equal(second.socket, first.socket, 'the same keep-alive socket was reused');
    assert.equal(second.status, 200);
    assert.equal(second.connection, 'close');
    await holder;
    await drained;
  } finally {
    agent.destroy();
    r.close();
  }
});

test('success: a streaming response whose headers went out before the drain completes, then its socket closes', { timeout: 20_000 }, async () => {
  const r = await rig((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first ');
    setTimeout(() => res.end('last'), 500);
  });
  const agent = new Agent({ keepAlive: true });
  try {
    let headers: string | undefined;
    const streaming = get(r.port, '/stream', agent, (res) => (headers = res.headers.connection));
    await sleep(150);
    const drained = r.lifecycle.shutdown();
    const reply = await streaming;
    assert.equal(headers, 'keep-alive', 'headers were sent before the drain');
    assert.equal(reply.body, 'first last');
    // keepAliveTimeout is 10 minutes: closing now proves the drain ended it.
    await closed(reply.socket);
    await drained;
  } finally {
    agent.destroy();
    r.close();
  }
});

test('failure: a request outliving the grace period is destroyed and the drain reports it', { timeout: 20_000 }, async () => {
  const r = await rig(() => {
    // never answers
  }, { gracePeriodMs: 300 });
  try {
    const hung = get(r.port, '/', new Agent({ keepAlive: true })).catch((error: Error) => error);
    await sleep(100);
    await r.lifecycle.shutdown();
    assert.equal(r.lifecycle.forced, true);
    assert.ok((await hung) instanceof Error);
    assert.deepEqual(r.manager.valuesOf('STATUS').at(-1), 'drained (forced after the grace period)');
  } finally {
    r.close();
  }
});

test('success: EXTEND_TIMEOUT_USEC from the first moment of the stop through the close hook, past the lifecycle deadline, whatever TimeoutStopSec= is; counts once a second', { timeout: 20_000 }, async () => {
  let manager: FakeNotifyManager | undefined;
  let extendsDuringClose = 0;
  const r = await rig((_req, res) => setTimeout(() => res.end('slow'), 1600), {
    gracePeriodMs: 60_000,
    // The close hook waits for an extension sent while it runs.
    close: async () => {
      const from = manager!.messages.length;
      await manager!.waitFor('EXTEND_TIMEOUT_USEC', { from });
      extendsDuringClose++;
    },
  });
  manager = r.manager;
  try {
    const slow = get(r.port, '/', new Agent({ keepAlive: true }));
    await r.manager.waitFor('READY');
    await sleep(100);
    const stopping = r.lifecycle.shutdown();
    // The first extension goes out with STOPPING=1, not a tick later.
    const first = await r.manager.waitFor('STOPPING');
    await slow;
    await stopping;
    assert.equal(extendsDuringClose, 1);
    const extensions = r.manager.valuesOf('EXTEND_TIMEOUT_USEC').map(Number);
    // grace 60 s + close allowance 10 s + margin 5 s, counting down
    assert.ok(Number(first.fields.EXTEND_TIMEOUT_USEC) > 70_000_000 && Number(first.fields.EXTEND_TIMEOUT_USEC) <= 75_000_000, String(first.fields.EXTEND_TIMEOUT_USEC));
    assert.ok(extensions.every((usec) => usec > 65_000_000 && usec <= 75_000_000), String(extensions));
    assert.ok(r.manager.valuesOf('STATUS').includes('draining (1 connections, 1 requests)'));
    // Nothing extends after STATUS=drained.
    const drained = indexOf(r.manager, (f) => f.STATUS === 'drained');
    assert.ok(r.manager.messages.slice(drained).every((m) => !('EXTEND_TIMEOUT_USEC' in m.fields)));
  } finally {
    r.close();
  }
});

test('no-op: without a manager the lifecycle still drains and resolves', { timeout: 20_000 }, async () => {
  const lifecycle = createLifecycle({ notifier: undefined, handleSignals: false, watchdog: false });
  await lifecycle.shutdown();
  assert.equal(lifecycle.state, 'drained');
  lifecycle.dispose();
});

test('success: signal handlers are installed with process.on and removed on dispose', () => {
  const before = ['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s));
  const lifecycle = createLifecycle({ watchdog: false, reload: () => {} });
  assert.deepEqual(['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s)), before.map((n) => n + 1));
  lifecycle.dispose();
  lifecycle.dispose();
  assert.deepEqual(['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s)), before);
});

test('failure: bad options are rejected with full sentences', () => {
  const cases: Array<[object, RegExp]> = [
    [{ gracePeriodMs: -1 }, /gracePeriodMs option must be a number of milliseconds/],
    [{ forcedExitCode: 256 }, /forcedExitCode option must be an integer from 0 to 255/],
    [{ reload: 'yes' }, /reload option must be a function/],
    [{ watchdog: 5 }, /watchdog option must be an object/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => createLifecycle(options as never), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION') && message.test((error as Error).message));
  }
});

test('success: a manager that never answers BARRIER=1 does not hold up the end of the drain', { timeout: 20_000 }, async () => {
  const manager = await FakeNotifyManager.start({ answerBarriers: false });
  const notifier = new Notifier({ socket: manager.socket });
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false, barrierTimeoutMs: 200 });
  try {
    await lifecycle.shutdown();
    assert.equal(lifecycle.state, 'drained');
    await manager.waitFor('BARRIER');
    assert.deepEqual(manager.valuesOf('STATUS'), ['draining', 'drained']);
  } finally {
    lifecycle.dispose();
    notifier.close();
    manager.close();
  }
});

test('success: READY=1 waits for every attached server, and STATUS= names them all', { timeout: 20_000 }, async () => {
  const { createServer } = await import('node:http');
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false });
  const first = createServer();
  const second = createServer();
  try {
    lifecycle.addServer(first);
    lifecycle.addServer(second);
    await lifecycle.listen(first, { port: 0, host: '127.0.0.1' });
    let sent = false;
    const ready = lifecycle.ready().then(() => (sent = true));
    await sleep(100);
    assert.equal(sent, false, 'not ready while the second server is not listening');
    await lifecycle.listen(second, { port: 0, host: '127.0.0.1' });
    await ready;
    const ports = [first, second].map((server) => (server.address() as { port: number }).port);
    assert.equal((await manager.waitFor('READY')).fields.STATUS, `listening on 127.0.0.1:${ports[0]}, 127.0.0.1:${ports[1]}`);
  } finally {
    lifecycle.dispose();
    first.close();
    second.close();
    notifier.close();
    manager.close();
  }
});

test('success: a keep-alive connection opened before addServer() is drained too', { timeout: 20_000 }, async () => {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const lifecycle = createLifecycle({ notifier: undefined, handleSignals: false, watchdog: false });
  try {
    const before = await get(port, '/', agent);
    lifecycle.addServer(server);
    const after = await get(port, '/', agent);
    assert.equal(after.socket, before.socket);
    await lifecycle.shutdown();
    await closed(after.socket);
    assert.equal(lifecycle.forced, false, 'closed by the linger, not by the grace period');
  } finally {
    agent.destroy();
    lifecycle.dispose();
    server.close();
  }
});

test('success: an upgraded connection (WebSocket) is left to the app, which closes it on the draining event', { timeout: 20_000 }, async () => {
  const { connect } = await import('node:net');
  const r = await rig((_req, res) => res.end('ok'), { idleLingerMs: 50 });
  try {
    r.server.on('upgrade', (_req, socket: import('node:net').Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
      // The app's own goodbye, well after the linger would have cut the socket.
      r.lifecycle.once('draining', () => setTimeout(() => socket.end('bye'), 400));
    });
    const client = connect(r.port, '127.0.0.1');
    let received = '';
    client.on('data', (chunk) => (received += chunk));
    client.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    while (!received.includes('101')) await sleep(10);
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    await r.lifecycle.shutdown();
    await ended;
    assert.ok(received.endsWith('bye'), JSON.stringify(received));
    assert.equal(r.lifecycle.forced, false);
    client.destroy();
  } finally {
    r.close();
  }
});

test('success: during shutdownDelayMs readiness answers 503 and STATUS says stopping while new connections are still served; then the drain', { timeout: 20_000 }, async () => {
  const r = await rig((_req, res) => res.end('ok'), { shutdownDelayMs: 60_000 });
  try {
    const stopping = r.lifecycle.shutdown('SIGTERM');
    await r.manager.waitFor('STOPPING');
    assert.deepEqual(r.lifecycle.readiness(), { statusCode: 503, state: 'draining' });
    assert.equal(r.lifecycle.signal.aborted, true);
    assert.match(r.manager.valuesOf('STATUS').at(-1)!, /^stopping: accepting for 60000 ms more \(shutdownDelayMs\)/);
    // A new connection is accepted and served normally (no Connection: close yet).
    const reply = await get(r.port, '/', new Agent({ keepAlive: false }));
    assert.equal(reply.status, 200);
    assert.equal(r.server.listening, true);
    assert.equal(r.manager.valuesOf('STATUS').includes('draining'), false);
    void stopping;
  } finally {
    r.close();
  }
});

test('success: the delay ends in the usual drain: listeners closed, STATUS=draining, drained', { timeout: 20_000 }, async () => {
  const r = await rig((_req, res) => res.end('ok'), { shutdownDelayMs: 50 });
  try {
    await r.lifecycle.shutdown('SIGTERM');
    assert.equal(r.server.listening, false);
    const statuses = r.manager.valuesOf('STATUS');
    assert.ok(statuses.indexOf('draining') > statuses.findIndex((s) => s.startsWith('stopping')), statuses.join(' | '));
    assert.equal(statuses.at(-1), 'drained');
  } finally {
    r.close();
  }
});

test('success: the logger gets the lifecycle messages with NODE_SYSTEMD_EVENT, and a bad logger is refused', { timeout: 20_000 }, async () => {
  const entries: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void entries.push([level, message, fields]);
  const r = await rig(() => {
    // never answers: the grace period forces the drain
  }, { gracePeriodMs: 200, logger: { info: record('info'), warn: record('warn'), error: record('error') }, close: () => { throw new Error('pool gone'); } });
  try {
    const hung = get(r.port, '/', new Agent({ keepAlive: true })).catch(() => undefined);
    await sleep(50);
    await r.lifecycle.shutdown();
    await hung;
    const events = entries.map(([level, , fields]) => `${level}:${String(fields?.NODE_SYSTEMD_EVENT)}`);
    assert.deepEqual(events, ['info:drain-started', 'warn:drain-forced', 'error:close-failed', 'info:drained']);
    const failed = entries[2]!;
    assert.match(failed[1], /pool gone/);
    assert.equal((failed[2]!.err as Error).message, 'pool gone');
  } finally {
    r.close();
  }
  assert.throws(() => createLifecycle({ logger: { info() {} } as never }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION') && /info\(\), warn\(\) and error\(\)/.test((error as Error).message));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { isNotifyError, probeHandler, type Lifecycle } from '../src/index.js';
import { get, rig } from './lifecycle-helpers.js';

test('success: probeHandler answers /readyz from the state and /livez from the health check; other paths go to the app', { timeout: 20_000 }, async () => {
  let healthy: unknown = undefined;
  let lifecycle: Lifecycle | undefined;
  let probes: ReturnType<typeof probeHandler> | undefined;
  const r = await rig((req, res) => {
    probes ??= probeHandler(lifecycle!);
    if (!probes(req, res)) res.end('app');
  }, { healthCheck: () => healthy, shutdownDelayMs: 60_000 });
  lifecycle = r.lifecycle;
  const agent = new Agent({ keepAlive: false });
  const body = async (path: string): Promise<[number, string]> => {
    const reply = await get(r.port, path, agent);
    return [reply.status, reply.body];
  };
  try {
    assert.deepEqual(await body('/readyz'), [200, 'ready']);
    assert.deepEqual(await body('/livez'), [200, 'ok']);
    assert.deepEqual(await body('/livez?verbose'), [200, 'ok']);
    assert.deepEqual(await body('/other'), [200, 'app']);
    healthy = false;
    assert.deepEqual(await body('/livez'), [503, 'unhealthy: the health check returned false']);
    healthy = Promise.reject(new Error('db down'));
    (healthy as Promise<unknown>).catch(() => {});
    assert.deepEqual(await body('/livez'), [503, 'unhealthy: the health check threw']);
    healthy = true;
    void r.lifecycle.shutdown();
    assert.deepEqual(await body('/readyz'), [503, 'draining']);
    assert.deepEqual(await body('/livez'), [200, 'ok']);
  } finally {
    r.close();
  }
});

test('failure: bad probe paths are refused with a full sentence', () => {
  const lifecycle = { readiness: () => ({ statusCode: 200 as const, state: 'ready' }), liveness: async () => ({ statusCode: 200 as const }) };
  assert.throws(() => probeHandler(lifecycle, { readinessPath: 'ready' }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION') && /readinessPath option must be a path starting with "\/"/.test((error as Error).message));
  assert.throws(() => probeHandler(lifecycle, 'yes' as never), /probes option must be true or/);
});

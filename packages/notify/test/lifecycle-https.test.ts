import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Notifier, createLifecycle } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { closed, sleep } from './lifecycle-helpers.js';
import { selfSignedCertificate as certificate } from '../../../test/helpers/tls.js';

function get(port: number, path: string, agent: Agent, ca: Buffer): Promise<{ connection: string | undefined; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent, ca }, (res) => {
      const socket = res.socket;
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve({ connection: res.headers.connection, body, socket }));
    })
      .on('error', reject)
      .end();
  });
}

test('success: an https.Server drains like http: Connection: close in flight, idle TLS sockets closed', { timeout: 20_000 }, async () => {
  const tls = certificate();
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = createServer(tls, (req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 300);
    else res.end('fast');
  });
  server.keepAliveTimeout = 600_000;
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false });
  try {
    await lifecycle.listen(server, { port: 0, host: '127.0.0.1' });
    await lifecycle.ready();
    const { port } = server.address() as AddressInfo;
    const idle = await get(port, '/', new Agent({ keepAlive: true }), tls.cert);
    assert.equal(idle.connection, 'keep-alive');
    const slow = get(port, '/slow', new Agent({ keepAlive: true }), tls.cert);
    await sleep(100);
    await lifecycle.shutdown();
    assert.deepEqual({ ...(await slow), socket: undefined }, { connection: 'close', body: 'slow', socket: undefined });
    await closed(idle.socket);
    assert.deepEqual(manager.valuesOf('STATUS'), [`listening on 127.0.0.1:${port}`, 'draining', 'drained']);
  } finally {
    lifecycle.dispose();
    server.close();
    notifier.close();
    manager.close();
  }
});

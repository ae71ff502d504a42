import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Notifier, createLifecycle } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';
import { sleep } from './lifecycle-helpers.js';

function fetch2(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
    stream.end();
  });
}

test('success: HTTP/2 sessions get GOAWAY on drain and their open streams complete', { timeout: 20_000 }, async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow done'), 400);
    else res.end('fast');
  });
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false });
  try {
    await lifecycle.listen(server, { port: 0, host: '127.0.0.1' });
    await lifecycle.ready();
    const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    let goaway = false;
    client.on('goaway', () => (goaway = true));
    client.on('error', () => {});
    assert.equal((await fetch2(client, '/')).body, 'fast');
    const slow = fetch2(client, '/slow');
    await sleep(100);
    await lifecycle.shutdown();
    assert.deepEqual(await slow, { status: 200, body: 'slow done' });
    assert.equal(goaway, true, 'the client saw GOAWAY');
    await new Promise<void>((resolve) => (client.closed ? resolve() : client.once('close', () => resolve())));
    assert.equal(manager.valuesOf('STATUS').at(-1), 'drained');
  } finally {
    lifecycle.dispose();
    server.close();
    notifier.close();
    manager.close();
  }
});

import { test } from 'node:test';
import { join } from 'node:path';
import { BAD_FD_NAMES, bodyFromNamedSocket, isFdNameRefusal } from '../../../test/helpers/fd-name.js';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Notifier, createLifecycle } from '@node-systemd/notify';
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import { drainMiddleware, serve } from '../src/index.js';
import { selfSignedCertificate as certificate } from '../../../test/helpers/tls.js';

function get(port: number, path: string, agent: Agent): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('success: serve() listens, sends READY=1, and the middleware answers readiness 200 then 503 while draining', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false, idleLingerMs: 5000 });
  const app = express();
  app.use(drainMiddleware(lifecycle, { readinessPath: '/ready' }));
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.send('slow'), 400);
  });
  try {
    const { server, ready } = serve(app, { lifecycle, port: 0, host: '127.0.0.1' });
    await ready;
    const { port } = server.address() as AddressInfo;
    assert.equal((await manager.waitFor('READY')).fields.STATUS, `listening on 127.0.0.1:${port}`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.deepEqual(await get(port, '/ready', agent), { status: 200, connection: 'keep-alive', body: 'ready' });
    const slow = get(port, '/slow', new Agent({ keepAlive: true }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const drained = lifecycle.shutdown();
    // The same keep-alive socket, during the drain (the linger keeps it open).
    assert.deepEqual(await get(port, '/ready', agent), { status: 503, connection: 'close', body: 'draining' });
    assert.equal((await slow).connection, 'close');
    await drained;
  } finally {
    lifecycle.dispose();
    notifier.close();
    manager.close();
  }
});

test('failure: serve() and the middleware reject bad arguments with full sentences', () => {
  assert.throws(() => serve(42 as never), { code: 'ERR_NOTIFY_INVALID_OPTION', message: /serve\(\) needs an Express app/ });
  assert.throws(() => serve(express(), { port: 70_000, handleSignals: false }), { message: /port option must be an integer from 0 to 65535/ });
  const lifecycle = createLifecycle({ handleSignals: false, watchdog: false });
  assert.throws(() => drainMiddleware(lifecycle, { readinessPath: 'ready' }), { message: /readinessPath option must be a path starting with "\/"/ });
  lifecycle.dispose();
});

test('success: the package exports serve to require() and import', async () => {
  const required = require('@node-systemd/express') as { serve: unknown };
  const imported = (await import('@node-systemd/express')) as { serve: unknown };
  assert.equal(typeof required.serve, 'function');
  assert.equal(imported.serve, required.serve);
});

test('failure: a port in use rejects ready with EADDRINUSE and sends no READY=1', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const taken = (await import('node:net')).createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { lifecycle, ready } = serve(express(), { notifier, handleSignals: false, watchdog: false, port: (taken.address() as AddressInfo).port, host: '127.0.0.1' });
  try {
    await assert.rejects(ready, { code: 'EADDRINUSE' });
    assert.equal(manager.messages.length, 0);
    assert.equal(lifecycle.state, 'starting');
  } finally {
    lifecycle.dispose();
    taken.close();
    notifier.close();
    manager.close();
  }
});

// Express sets its request prototype from http.IncomingMessage: it does not run on
// Node's HTTP/2 compatibility API, so HTTPS here; the Koa tests cover http2.
test('success: serve(app, { https }) serves over TLS, READY=1, and drains', { timeout: 20_000 }, async () => {
  const { key, cert } = certificate();
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const app = express();
  app.get('/', (_req, res) => res.send('Hello TLS'));
  const { server, lifecycle, ready } = serve(app, { https: { key, cert }, notifier, handleSignals: false, watchdog: false, port: 0, host: '127.0.0.1' });
  try {
    await ready;
    const { port } = server.address() as AddressInfo;
    await manager.waitFor('READY');
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, path: '/', ca: cert }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve(text));
      }).on('error', reject).end();
    });
    assert.equal(body, 'Hello TLS');
    await lifecycle.shutdown();
    assert.equal(manager.valuesOf('STATUS').at(-1), 'drained');
    assert.equal(lifecycle.forced, false);
  } finally {
    lifecycle.dispose();
    server.close();
    notifier.close();
    manager.close();
  }
});

test('failure: serve() rejects a bad fdName with ERR_NOTIFY_INVALID_OPTION naming the rule', () => {
  for (const fdName of BAD_FD_NAMES) {
    assert.throws(() => serve(express(), { fdName: fdName as string, port: 0, handleSignals: false, watchdog: false }), isFdNameRefusal, String(fdName));
  }
});

test('success: serve() with fdName serves on the passed socket of that name among two (real socket activation)', { timeout: 30_000 }, async () => {
  const script = `const app = require('express')();
app.get('/', (req, res) => res.send('express'));
require('@node-systemd/express').serve(app, { fdName: 'web site', watchdog: false }).ready.then(() => console.log('ready'));`;
  assert.equal(await bodyFromNamedSocket(script, join(__dirname, '..')), 'express');
});

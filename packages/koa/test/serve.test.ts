import { test } from 'node:test';
import { join } from 'node:path';
import { BAD_FD_NAMES, bodyFromNamedSocket, isFdNameRefusal } from '../../../test/helpers/fd-name.js';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Notifier } from '@node-systemd/notify';
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import { serve } from '../src/index.js';
import { selfSignedCertificate } from '../../../test/helpers/tls.js';

test('success: serve() listens once, sends READY=1, and shutdown() drains in order', async () => {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'Hello World!';
  });
  const { server, lifecycle, ready } = serve(app, { notifier, handleSignals: false, watchdog: false, port: 0, host: '127.0.0.1' });
  try {
    await ready;
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(body, 'Hello World!');
    await lifecycle.shutdown();
    assert.equal(server.listening, false);
    const fields = manager.messages.map((m) => m.fields);
    assert.deepEqual(
      fields.map((f) => f.STATUS ?? Object.keys(f).join()),
      [`listening on 127.0.0.1:${port}`, 'draining', 'drained', 'BARRIER'],
      JSON.stringify(fields),
    );
    assert.equal(fields[1]!.STOPPING, '1');
  } finally {
    lifecycle.dispose();
    notifier.close();
    manager.close();
  }
});

test('failure: serve() without a Koa app is a typed error', () => {
  assert.throws(() => serve({} as never), { code: 'ERR_NOTIFY_INVALID_OPTION', message: /serve\(\) needs a Koa app/ });
});

test('success: the package exports serve to require() and import', async () => {
  const required = require('@node-systemd/koa') as { serve: unknown };
  const imported = (await import('@node-systemd/koa')) as { serve: unknown };
  assert.equal(typeof required.serve, 'function');
  assert.equal(imported.serve, required.serve);
});

test('success: serve(app, { http2 }) serves HTTP/2 over TLS, READY=1, and drains (GOAWAY)', { timeout: 20_000 }, async () => {
  const { key, cert } = selfSignedCertificate();
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = `Hello HTTP/${ctx.req.httpVersion}`;
  });
  const { server, lifecycle, ready } = serve(app, { http2: { key, cert }, notifier, handleSignals: false, watchdog: false, port: 0, host: '127.0.0.1' });
  try {
    await ready;
    const { port } = server.address() as AddressInfo;
    await manager.waitFor('READY');
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: cert });
    const body = await new Promise<string>((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({ ':path': '/' });
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
    assert.equal(body, 'Hello HTTP/2.0');
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const drained = lifecycle.shutdown();
    await goaway;
    session.close();
    await drained;
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
    assert.throws(() => serve(new Koa(), { fdName: fdName as string, port: 0, handleSignals: false, watchdog: false }), isFdNameRefusal, String(fdName));
  }
});

test('success: serve() with fdName serves on the passed socket of that name among two (real socket activation)', { timeout: 30_000 }, async () => {
  const script = `const Koa = require('koa');
const app = new Koa();
app.use((ctx) => { ctx.body = 'koa'; });
require('@node-systemd/koa').serve(app, { fdName: 'web site', watchdog: false }).ready.then(() => console.log('ready'));`;
  assert.equal(await bodyFromNamedSocket(script, join(__dirname, '..')), 'koa');
});

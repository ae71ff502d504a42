// pino → journal through a fake journald on a real datagram socket: the in-process
// destination, the worker-thread transport, Fastify's request logging, no journal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { FakeJournal } from '@node-systemd/notify/testing';
import { journal } from '../src/index.js';

async function withJournal(body: (fake: FakeJournal) => Promise<void>): Promise<void> {
  const fake = FakeJournal.start();
  try {
    await body(fake);
  } finally {
    fake.close();
  }
}

test('success: each pino level arrives with its PRIORITY: trace/debug 7, info 6, warn 4, error 3, fatal 2', async () => {
  await withJournal(async (fake) => {
    const log = pino({ level: 'trace' }, journal({ mode: 'native', socket: fake.socket, identifier: 'pino-test' }));
    const expected = { trace: '7', debug: '7', info: '6', warn: '4', error: '3', fatal: '2' } as const;
    for (const level of Object.keys(expected) as Array<keyof typeof expected>) log[level](`at ${level}`);
    for (const [level, priority] of Object.entries(expected)) {
      const entry = await fake.waitFor((e) => e.text('MESSAGE') === `at ${level}`);
      assert.equal(entry.text('PRIORITY'), priority, level);
      assert.equal(entry.text('SYSLOG_IDENTIFIER'), 'pino-test');
      assert.equal(entry.text('TIME'), undefined, 'journald keeps its own timestamp');
      assert.equal(entry.text('HOSTNAME'), undefined);
    }
  });
});

test('success: an error keeps its whole stack in one entry with ERRNO; fields are escaped and flattened; the JSON line kept on request', async () => {
  await withJournal(async (fake) => {
    const log = pino(journal({ mode: 'native', socket: fake.socket, jsonField: 'PINO_JSON' })).child({ reqId: 'req-7' });
    const error = Object.assign(new Error('cannot open'), { code: 'EACCES', errno: -13 });
    log.error(error);
    log.error({ err: error, user: { id: 42, roles: ['a'] } }, 'upload failed');
    const first = await fake.waitFor((e) => e.text('MESSAGE')?.startsWith('Error: cannot open') === true);
    assert.equal(first.text('MESSAGE'), error.stack);
    assert.equal(first.text('ERRNO'), '13');
    assert.equal(first.text('PRIORITY'), '3');
    assert.equal(first.text('REQ_ID'), 'req-7');
    assert.equal(first.text('ERR_TYPE'), 'Error');
    const second = await fake.waitFor((e) => e.text('MESSAGE')?.startsWith('upload failed') === true);
    assert.equal(second.text('MESSAGE'), `upload failed\n${error.stack}`);
    assert.equal(second.text('USER_ID'), '42');
    assert.equal(second.text('USER_ROLES'), '["a"]');
    const json = JSON.parse(second.text('PINO_JSON')!) as { msg: string; reqId: string };
    assert.equal(json.msg, 'upload failed');
    assert.equal(json.reqId, 'req-7');
  });
});

test('success: as a transport target in pino\'s worker thread', async () => {
  await withJournal(async (fake) => {
    const transport = pino.transport({ target: join(__dirname, '..', 'dist', 'index.js'), options: { mode: 'native', socket: fake.socket, identifier: 'worker' } });
    const log = pino(transport);
    log.warn({ orderId: 9 }, 'from the worker');
    const entry = await fake.waitFor((e) => e.text('MESSAGE') === 'from the worker');
    assert.equal(entry.text('PRIORITY'), '4');
    assert.equal(entry.text('ORDER_ID'), '9');
    assert.equal(entry.text('SYSLOG_IDENTIFIER'), 'worker');
    transport.end();
    await once(transport, 'close');
  });
});

test('success: Fastify({ logger: { stream: journal() } }) puts REQ_ID on every line of a request', async () => {
  await withJournal(async (fake) => {
    const app = Fastify({ logger: { stream: journal({ mode: 'native', socket: fake.socket }) } });
    app.get('/hello', async (request) => {
      request.log.info({ step: 'handler' }, 'saying hello');
      return 'hi';
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/hello' });
      assert.equal(response.body, 'hi');
      const done = await fake.waitFor((e) => e.text('MESSAGE') === 'request completed');
      const reqId = done.text('REQ_ID');
      assert.ok(reqId, 'the completed line has REQ_ID');
      const lines = fake.entries.filter((e) => e.text('REQ_ID') === reqId).map((e) => e.text('MESSAGE'));
      assert.deepEqual(lines, ['incoming request', 'saying hello', 'request completed']);
      const incoming = fake.entries.find((e) => e.text('MESSAGE') === 'incoming request')!;
      assert.equal(incoming.text('REQ_METHOD'), 'GET');
      assert.equal(incoming.text('REQ_URL'), '/hello');
      assert.equal(done.text('RES_STATUS_CODE'), '200');
      assert.match(done.text('RESPONSE_TIME')!, /^\d+(\.\d+)?$/);
    } finally {
      await app.close();
    }
  });
});

test('no-op: with no journal the JSON lines go to the fallback unchanged', () => {
  const fallback = new PassThrough();
  const destination = journal({ mode: 'native', socket: '/nonexistent-journal-dir/socket', fallback });
  const log = pino({ base: null, timestamp: false }, destination);
  log.info('plain');
  assert.equal(fallback.read()?.toString(), '{"level":30,"msg":"plain"}\n');
  assert.equal(destination.sender.offline, true);
});

test('no-op: in auto mode, not started by systemd (no JOURNAL_STREAM), the lines go to the fallback even with a journal there', async () => {
  await withJournal(async (fake) => {
    const fallback = new PassThrough();
    const log = pino({ base: null, timestamp: false }, journal({ socket: fake.socket, fallback }));
    log.warn('terminal');
    assert.equal(fallback.read()?.toString(), '{"level":40,"msg":"terminal"}\n');
    assert.equal(fake.drainQueue(), 0);
  });
});

// winston → journal through a fake journald on a real datagram socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { FakeJournal } from '@node-systemd/notify/testing';
import { JournalTransport } from '../src/index.js';

test('success: levels map to PRIORITY, meta becomes fields, an error keeps its whole stack in one entry', async () => {
  const fake = FakeJournal.start();
  try {
    const logger = winston.createLogger({
      level: 'silly',
      format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.json()),
      transports: [new JournalTransport({ mode: 'native', socket: fake.socket, identifier: 'winston-test' })],
    });
    const expected = { error: '3', warn: '4', info: '6', http: '6', verbose: '7', debug: '7', silly: '7' } as const;
    for (const level of Object.keys(expected) as Array<keyof typeof expected>) logger.log(level, `at ${level}`, { reqId: 'r-1', user: { id: 5 } });
    for (const [level, priority] of Object.entries(expected)) {
      const entry = await fake.waitFor((e) => e.text('MESSAGE') === `at ${level}`);
      assert.equal(entry.text('PRIORITY'), priority, level);
      assert.equal(entry.text('REQ_ID'), 'r-1');
      assert.equal(entry.text('USER_ID'), '5');
      assert.equal(entry.text('SYSLOG_IDENTIFIER'), 'winston-test');
      assert.equal(entry.text('LEVEL'), undefined, 'the level is PRIORITY, not a field');
    }
    const error = Object.assign(new Error('disk gone'), { code: 'EIO' });
    logger.error(error);
    const failed = await fake.waitFor((e) => e.text('MESSAGE')?.startsWith('Error: disk gone') === true);
    assert.equal(failed.text('MESSAGE'), error.stack);
    assert.equal(failed.text('ERRNO'), '5');
    assert.equal(failed.text('PRIORITY'), '3');
  } finally {
    fake.close();
  }
});

test('success: syslog levels keep their own priorities', async () => {
  const fake = FakeJournal.start();
  try {
    const logger = winston.createLogger({ levels: winston.config.syslog.levels, level: 'debug', transports: [new JournalTransport({ mode: 'native', socket: fake.socket })] });
    for (const level of ['emerg', 'alert', 'crit', 'warning', 'notice']) logger.log(level, level);
    for (const [level, priority] of [['emerg', '0'], ['alert', '1'], ['crit', '2'], ['warning', '4'], ['notice', '5']]) {
      assert.equal((await fake.waitFor((e) => e.text('MESSAGE') === level)).text('PRIORITY'), priority);
    }
  } finally {
    fake.close();
  }
});

test('no-op: not started by systemd (auto mode), the formatted lines go to the fallback and nothing to the journal', async () => {
  const fake = FakeJournal.start();
  try {
    const fallback = new PassThrough();
    const logger = winston.createLogger({ format: winston.format.simple(), transports: [new JournalTransport({ socket: fake.socket, fallback })] });
    logger.info('terminal', { a: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fallback.read()?.toString(), 'info: terminal {"a":1}\n');
    assert.equal(fake.drainQueue(), 0);
  } finally {
    fake.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fstatSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createJournalLogger, formatJournalLine, isJournalStream, isNotifyError } from '../src/index.js';
import { FakeJournal } from '../src/testing/index.js';

test('success: every line of a message carries the priority prefix', () => {
  assert.equal(formatJournalLine('err', 'boom\n    at x\n    at y'), '<3>boom\n<3>    at x\n<3>    at y\n');
  assert.equal(formatJournalLine('info', 'one line\n'), '<6>one line\n');
  assert.equal(formatJournalLine('debug', 'crlf\r\nline'), '<7>crlf\n<7>line\n');
});

test('success: a stream is the journal only when JOURNAL_STREAM names its device and inode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-journal-'));
  try {
    const fd = openSync(join(dir, 'out'), 'w');
    const stat = fstatSync(fd);
    assert.equal(isJournalStream(fd, `${stat.dev}:${stat.ino}`), true);
    assert.equal(isJournalStream(fd, `${stat.dev}:${stat.ino + 1}`), false);
    assert.equal(isJournalStream(fd, undefined), false);
    assert.equal(isJournalStream(fd, 'garbage'), false);
    closeSync(fd);
    assert.equal(isJournalStream(fd, `${stat.dev}:${stat.ino}`), false, 'a closed fd is not the journal');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('success: a child whose stderr matches JOURNAL_STREAM writes prefixed lines, a redirected one plain lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-journal-'));
  try {
    const file = join(dir, 'stderr');
    const script = `
      const { createJournalLogger } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      const fs = require('node:fs');
      const st = fs.fstatSync(2);
      if (process.argv[1] === 'journal') process.env.JOURNAL_STREAM = st.dev + ':' + st.ino;
      const log = createJournalLogger();
      log.error('failed: %s', 'disk full');
      log.info('served');`;
    for (const mode of ['journal', 'plain']) {
      const fd = openSync(file, 'w');
      execFileSync(process.execPath, ['-e', script, mode], { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      const expected = mode === 'journal' ? '<3>failed: disk full\n<6>served\n' : 'failed: disk full\nserved\n';
      assert.equal(readFileSync(file, 'utf8'), expected);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no-op: lines below minLevel are dropped', () => {
  const stream = new PassThrough();
  const log = createJournalLogger({ stream, prefix: true, minLevel: 'warning' });
  log.debug('hidden');
  log.info('hidden too');
  log.warn('shown');
  assert.equal(stream.read()?.toString(), '<4>shown\n');
  assert.equal(log.prefixed, true);
});

test('failure: an unknown level is a typed error', () => {
  assert.throws(() => formatJournalLine('loud' as never, 'x'), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION'));
  assert.throws(() => createJournalLogger({ minLevel: 'loud' as never }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_OPTION'));
});

test('success: the native logger sends MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, SYSLOG_PID and escaped, flattened fields', async () => {
  const journal = FakeJournal.start();
  try {
    const log = createJournalLogger({ mode: 'native', socket: journal.socket, identifier: 'shop-api', fields: { DEPLOYMENT: 'blue' } });
    assert.equal(log.mode, 'native');
    log.info('served', { reqId: 'req-1', req: { method: 'GET', headers: { host: 'x', deep: { deeper: { deepest: 1 } } } }, tags: ['a', 'b'], ok: true });
    log.warn('disk at %d%%', 91);
    const served = await journal.waitFor((e) => e.text('MESSAGE') === 'served');
    assert.equal(served.text('PRIORITY'), '6');
    assert.equal(served.text('SYSLOG_IDENTIFIER'), 'shop-api');
    assert.equal(served.text('SYSLOG_PID'), String(process.pid));
    assert.equal(served.text('DEPLOYMENT'), 'blue');
    assert.equal(served.text('REQ_ID'), 'req-1');
    assert.equal(served.text('REQ_METHOD'), 'GET');
    assert.equal(served.text('REQ_HEADERS_HOST'), 'x');
    assert.equal(served.text('REQ_HEADERS_DEEP_DEEPER'), '{"deepest":1}', 'three levels of objects are flattened, the rest kept as JSON');
    assert.equal(served.text('TAGS'), '["a","b"]');
    assert.equal(served.text('OK'), 'true');
    const warned = await journal.waitFor((e) => e.text('PRIORITY') === '4');
    assert.equal(warned.text('MESSAGE'), 'disk at 91%');
  } finally {
    journal.close();
  }
});

test('success: an Error is one entry holding its whole stack, with ERRNO; the lifecycle form (message, { NODE_SYSTEMD_EVENT, err }) too', async () => {
  const journal = FakeJournal.start();
  try {
    const log = createJournalLogger({ mode: 'native', socket: journal.socket });
    const error = Object.assign(new Error('open failed'), { code: 'ENOENT', errno: -2, path: '/etc/app.conf' });
    log.error(error);
    const thrown = await journal.waitFor((e) => e.text('PRIORITY') === '3');
    assert.equal(thrown.text('MESSAGE'), error.stack);
    assert.ok(thrown.text('MESSAGE')!.split('\n').length > 3, 'a multi-line stack, in one entry');
    assert.equal(thrown.text('ERRNO'), '2');
    assert.equal(thrown.text('ERR_CODE'), 'ENOENT');
    assert.equal(thrown.text('ERR_PATH'), '/etc/app.conf');
    log.warn('forced close', { NODE_SYSTEMD_EVENT: 'forced-close', err: new Error('grace period over'), open: 3 });
    const forced = await journal.waitFor((e) => e.text('NODE_SYSTEMD_EVENT') === 'forced-close');
    assert.match(forced.text('MESSAGE')!, /^forced close\nError: grace period over\n {4}at /);
    assert.equal(forced.text('OPEN'), '3');
    assert.equal(forced.text('PRIORITY'), '4');
  } finally {
    journal.close();
  }
});

test('success: code: true adds CODE_FILE, CODE_LINE and CODE_FUNC of the caller', async () => {
  const journal = FakeJournal.start();
  try {
    const log = createJournalLogger({ mode: 'native', socket: journal.socket, code: true });
    function handleRequest(): void {
      log.info('here');
    }
    handleRequest();
    const entry = await journal.waitFor((e) => e.text('MESSAGE') === 'here');
    assert.match(entry.text('CODE_FILE')!, /journal\.test\.ts$/);
    assert.match(entry.text('CODE_LINE')!, /^\d+$/);
    assert.equal(entry.text('CODE_FUNC'), 'handleRequest');
  } finally {
    journal.close();
  }
});

test('success: in auto mode a child whose stderr matches JOURNAL_STREAM writes native entries, and plain lines when redirected elsewhere', async () => {
  const journal = FakeJournal.start();
  const dir = mkdtempSync(join(tmpdir(), 'nsd-journal-'));
  try {
    const file = join(dir, 'stderr');
    const script = `
      const { createJournalLogger } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      const st = require('node:fs').fstatSync(2);
      if (process.argv[1] === 'journal') process.env.JOURNAL_STREAM = st.dev + ':' + st.ino;
      const log = createJournalLogger({ socket: ${JSON.stringify(journal.socket)}, identifier: 'child' });
      log.error(new Error('first\\nsecond'));`;
    for (const mode of ['journal', 'plain']) {
      const fd = openSync(file, 'w');
      execFileSync(process.execPath, ['-e', script, mode], { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      const written = readFileSync(file, 'utf8');
      if (mode === 'journal') {
        assert.equal(written, '', 'nothing on the stream');
        const entry = await journal.waitFor((e) => e.text('SYSLOG_IDENTIFIER') === 'child');
        assert.match(entry.text('MESSAGE')!, /^Error: first\nsecond\n {4}at /);
      } else {
        assert.match(written, /^Error: first\nsecond\n {4}at /);
      }
    }
  } finally {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no-op: a native logger with no journal writes <N> lines instead, and logging never throws', () => {
  const stream = new PassThrough();
  const log = createJournalLogger({ mode: 'native', stream, socket: join(tmpdir(), 'nsd-no-journal', 'socket') });
  log.err(new Error('boom'));
  log.info('lone \uD800 surrogate', { n: 1 });
  // Every chunk written so far: read() returns one chunk at a time on Node 26.
  let text = '';
  for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) text += String(chunk);
  assert.match(text, /^<3>Error: boom\n<3> {4}at /);
  assert.match(text, /<6>lone \uFFFD surrogate n=1\n$/, 'the unencodable entry still comes out as a line');
  const closed = new PassThrough();
  closed.destroy();
  assert.doesNotThrow(() => createJournalLogger({ stream: closed, mode: 'plain' }).info('x'));
});

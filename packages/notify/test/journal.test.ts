import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fstatSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createJournalLogger, formatJournalLine, isJournalStream, isNotifyError } from '../src/index.js';

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

// The journal sender against a fake journald on a real AF_UNIX datagram socket:
// entries, the memfd path with its seals, the bounded queue, and no journal at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { JournalSender, encodeJournalEntry, isNotifyError, sendJournal } from '../src/index.js';
import { FakeJournal } from '../src/testing/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;

async function withJournal(body: (journal: FakeJournal) => Promise<void>, options: Parameters<typeof FakeJournal.start>[0] = {}): Promise<void> {
  const journal = FakeJournal.start(options);
  // Retry timers are unref'd (logging must not keep a process alive): keep the test alive.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await body(journal);
  } finally {
    clearInterval(keepAlive);
    journal.close();
  }
}

test('success: sendJournal delivers one entry with repeated fields, binary values and this PID', async () => {
  await withJournal(async (journal) => {
    const binary = Buffer.from([0, 1, 2, 10, 255]);
    assert.equal(await sendJournal({ MESSAGE: 'line one\nline two', PRIORITY: 3, TAG: ['a', 'b'], BLOB: binary }, { socket: journal.socket }), true);
    const entry = await journal.waitFor((e) => e.text('PRIORITY') === '3');
    assert.equal(entry.text('MESSAGE'), 'line one\nline two');
    assert.deepEqual(entry.all('TAG'), ['a', 'b']);
    assert.deepEqual(entry.fields.find(([name]) => name === 'BLOB')?.[1], binary);
    assert.equal(entry.pid, process.pid);
    assert.equal(entry.viaMemfd, false);
  });
});

test('success: an entry larger than a datagram goes whole through a memfd sealed against shrink, grow, write and sealing', async () => {
  await withJournal(async (journal) => {
    // A 32 KiB send buffer: a 600 KB entry cannot be one datagram (EMSGSIZE).
    const sender = new JournalSender({ socket: journal.socket, sendBufferBytes: 16 * 1024 });
    try {
      const big = Buffer.alloc(600_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      const text = 'x'.repeat(100_000) + '\nend';
      assert.equal(await sender.send({ MESSAGE: text, BIG: big, PRIORITY: 6 }), true);
      const entry = await journal.waitFor((e) => e.text('PRIORITY') === '6');
      assert.equal(entry.viaMemfd, true, 'the entry came as an fd in an empty datagram');
      assert.equal(entry.seals, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
      assert.equal(entry.text('MESSAGE'), text);
      assert.deepEqual(entry.fields.find(([name]) => name === 'BIG')?.[1], big);
      assert.equal(sender.stats.viaMemfd, 1);
      assert.equal(sender.stats.sent, 1);
    } finally {
      sender.close();
    }
  }, { maxDatagramBytes: 64 * 1024 });
});

/** Posts entries until one has to wait for room in the paused journal's queue; returns how many were posted. */
function fillKernelQueue(sender: JournalSender, entry: (n: number) => Buffer): number {
  for (let n = 0; n < 10_000; n++) {
    const before = sender.stats.sent;
    assert.equal(sender.writeEncoded(entry(n)), true);
    if (sender.stats.sent === before) return n + 1;
  }
  throw new Error('the receive queue never filled');
}

test('failure: behind a full journal the wait queue is bounded: further entries are dropped and counted, the heap stays flat', async () => {
  const journal = FakeJournal.start({ paused: true });
  const keepAlive = setInterval(() => {}, 1000);
  // The head waits a minute for room: everything written meanwhile meets the bound.
  const sender = new JournalSender({ socket: journal.socket, maxQueued: 16, retryDelaysMs: [60_000] });
  try {
    const data = encodeJournalEntry({ MESSAGE: 'x'.repeat(300), PRIORITY: 6 });
    fillKernelQueue(sender, () => data);
    for (let i = 0; i < 15; i++) assert.equal(sender.writeEncoded(data), true, 'queued');
    const burst = async (n: number): Promise<void> => {
      // Fresh entries each time, 300+ bytes: kept, 40 000 of them would hold 12 MB.
      for (let i = 0; i < n; i++) assert.equal(sender.writeEncoded(encodeJournalEntry({ MESSAGE: `${i} ${'y'.repeat(300)}`, PRIORITY: 6 })), false);
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    };
    await burst(10_000);
    const before = process.memoryUsage().heapUsed;
    for (let round = 0; round < 4; round++) await burst(10_000);
    const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    assert.equal(sender.stats.dropped, 50_000, 'every entry beyond the bound was dropped and counted');
    assert.ok(grownMb < 4, `heap grew ${grownMb.toFixed(2)} MB over 40 000 dropped entries`);
  } finally {
    clearInterval(keepAlive);
    sender.close();
    journal.close();
  }
});

test('success: once journald reads again, queued entries arrive in order and one entry reports how many were dropped', async () => {
  await withJournal(async (journal) => {
    const sender = new JournalSender({ socket: journal.socket, maxQueued: 8, retryDelaysMs: [5, 10, 20, 50, 100, 200, 400, 800, 1600] });
    try {
      const entry = (n: number): Buffer => encodeJournalEntry({ MESSAGE: `entry ${n}`, N: n });
      let n = fillKernelQueue(sender, entry);
      while (sender.writeEncoded(entry(n))) n++;
      for (let i = 0; i < 5; i++) sender.writeEncoded(entry(n + 1 + i));
      assert.equal(sender.stats.dropped, 6);
      journal.resume();
      const last = n - 1;
      await journal.waitFor((e) => e.text('N') === String(last));
      assert.equal(sender.writeEncoded(entry(1000)), true);
      const report = await journal.waitFor((e) => e.text('NODE_SYSTEMD_EVENT') === 'journal-dropped');
      assert.equal(report.text('DROPPED_ENTRIES'), '6');
      assert.equal(report.text('PRIORITY'), '4');
      const numbers = journal.entries.map((e) => e.text('N')).filter((v) => v !== undefined).map(Number);
      assert.deepEqual(numbers, [...Array.from({ length: n }, (_, i) => i), 1000], 'everything not dropped arrived once, in order');
      assert.equal(journal.entries.filter((e) => e.text('NODE_SYSTEMD_EVENT') === 'journal-dropped').length, 1, 'reported once');
    } finally {
      sender.close();
    }
  }, { paused: true });
});

test('no-op: off systemd (no journal socket) sendJournal resolves false, sends nothing and loads no native code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-offline-'));
  try {
    const script = join(dir, 'offline.cjs');
    writeFileSync(script, `
      const { sendJournal, createJournalLogger } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      sendJournal({ MESSAGE: 'hello' }).then(async (sent) => {
        const other = await sendJournal({ MESSAGE: 'hello' }, { socket: ${JSON.stringify(join(dir, 'missing.sock'))} });
        const native = Object.keys(require.cache).filter((file) => file.endsWith('.node'));
        console.log(JSON.stringify({ sent, other, native }));
      });`);
    const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: process.env.PATH } })) as { sent: boolean; other: boolean; native: string[] };
    assert.deepEqual(out, { sent: false, other: false, native: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no-op: a socket file nobody reads (journald gone) resolves false, like libsystemd', async () => {
  const journal = FakeJournal.start();
  const socket = journal.socket;
  const sender = new JournalSender({ socket });
  try {
    assert.equal(await sender.send({ MESSAGE: 'first' }), true);
    journal.close(); // removes the file: ENOENT
    assert.equal(await sender.send({ MESSAGE: 'second' }), false);
  } finally {
    sender.close();
  }
});

test('failure: bad fields reject with a typed error before anything is sent; a stream socket is ERR_NOTIFY_SEND_FAILED', async () => {
  await withJournal(async (journal) => {
    await assert.rejects(sendJournal({ message: 'lowercase' }, { socket: journal.socket }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
    await assert.rejects(sendJournal({ _PID: '1' }, { socket: journal.socket }), (error) => isNotifyError(error, 'ERR_NOTIFY_INVALID_FIELD'));
    assert.equal(journal.drainQueue(), 0);
  });
  const dir = mkdtempSync(join(tmpdir(), 'nsd-stream-'));
  const path = join(dir, 'stream.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const sender = new JournalSender({ socket: path });
  try {
    await assert.rejects(sender.send({ MESSAGE: 'x' }), (error) => isNotifyError(error, 'ERR_NOTIFY_SEND_FAILED') && error.syscallCode === 'EPROTOTYPE' && error.message.includes('the journal at'));
    assert.equal(sender.writeEncoded(encodeJournalEntry({ MESSAGE: 'x' })), false, 'writeEncoded never throws');
    assert.equal(sender.stats.failed, 1);
  } finally {
    sender.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('success: entries still waiting for journald when the process has nothing else to do are sent before it exits', async () => {
  const journal = FakeJournal.start({ paused: true });
  try {
    const script = `
      const { JournalSender, encodeJournalEntry } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      const sender = new JournalSender({ socket: ${JSON.stringify(journal.socket)} });
      for (let n = 0; n < 40; n++) sender.writeEncoded(encodeJournalEntry({ MESSAGE: 'exit ' + n, N: n }));
      console.log('queued ' + sender.queued);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
    assert.match(line, /^queued [1-9]\d*/, 'some entries had to wait');
    journal.resume();
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    journal.drainQueue();
    assert.deepEqual(journal.entries.map((e) => Number(e.text('N'))), Array.from({ length: 40 }, (_, n) => n), 'all 40, in order');
  } finally {
    journal.close();
  }
});

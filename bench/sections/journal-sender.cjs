'use strict';
// One journal sender, run by the journal section inside a private mount namespace
// whose /run/systemd/journal/socket is this process's own receiver (a FakeJournal,
// linked there): libsystemd and the npm peers only ever send to that path.
//
//   node journal-sender.cjs <library> <entries>
// Sends <entries> entries in batches of 8, timing each call; between batches the
// receiver is drained (untimed, its CPU subtracted). Writes one JSON line of results
// to fd 3. Entries to stdout (pino, console.log) go to a pipe the parent drains.
const fs = require('node:fs');

const [library, count] = process.argv.slice(2);
const n = Number(count);
const BATCH = 8; // below net.unix.max_dgram_qlen (10 by default): no call meets a full queue

const MESSAGE = 'GET /orders/42 answered 200 in 3 ms';
// The same six fields for every native sender (python-systemd adds CODE_* itself when not given).
const FIELDS = { MESSAGE, PRIORITY: '6', SYSLOG_IDENTIFIER: 'bench', CODE_FILE: 'bench.js', CODE_LINE: '1', CODE_FUNC: 'run' };

function makeSender() {
  switch (library) {
    case 'ours-send': {
      const { sendJournal } = require('@node-systemd/notify');
      return () => { sendJournal(FIELDS); };
    }
    case 'ours-logger':
    case 'ours-logger-code': {
      const { createJournalLogger } = require('@node-systemd/notify');
      const log = createJournalLogger({ mode: 'native', identifier: 'bench', code: library === 'ours-logger-code' });
      return () => log.info(MESSAGE);
    }
    case 'pino-journal': {
      const pino = require('pino');
      const { journal } = require('@node-systemd/pino');
      const log = pino({ base: null }, journal({ mode: 'native', identifier: 'bench' }));
      return () => log.info(MESSAGE);
    }
    case 'pino-stdout': {
      const pino = require('pino');
      const log = pino({ base: null }, pino.destination({ dest: 1, sync: true }));
      return () => log.info(MESSAGE);
    }
    case 'console-log':
      return () => console.log(MESSAGE);
    case 'systemd-journald': {
      const Journald = require('systemd-journald');
      const log = new Journald({ syslog_identifier: 'bench' });
      return () => log.info(MESSAGE, { CODE_FILE: 'bench.js', CODE_LINE: '1', CODE_FUNC: 'run' });
    }
    case 'sd-journald': {
      // Its fields are an immutable.js Map (its own dependency); SYSLOG_IDENTIFIER comes from the constructor.
      const { Journald } = require('sd-journald');
      const { Map: ImmutableMap } = require(require.resolve('immutable', { paths: [require.resolve('sd-journald')] }));
      const log = new Journald('bench');
      const fields = ImmutableMap({ CODE_FILE: 'bench.js', CODE_LINE: '1', CODE_FUNC: 'run' });
      return () => { log.send(6, MESSAGE, fields); };
    }
    default:
      throw new Error(`unknown library ${library}`);
  }
}

async function main() {
  const { FakeJournal } = require('@node-systemd/notify/testing');
  const receiver = FakeJournal.start({ paused: true });
  fs.mkdirSync('/run/systemd/journal', { recursive: true });
  fs.symlinkSync(receiver.socket, '/run/systemd/journal/socket');
  const send = makeSender();
  const toStdout = library === 'pino-stdout' || library === 'console-log';
  let drainCpu = 0;
  const drain = () => {
    if (toStdout) return;
    const before = process.cpuUsage();
    receiver.drainQueue();
    const used = process.cpuUsage(before);
    drainCpu += used.user + used.system;
  };
  for (let i = 0; i < 400; i++) {
    send();
    if (i % BATCH === BATCH - 1) drain();
  }
  drain();
  const warm = receiver.entries.length;
  receiver.entries.length = 0;
  const samples = new Array(n);
  drainCpu = 0;
  const cpuStart = process.cpuUsage();
  const wallStart = process.hrtime.bigint();
  for (let i = 0; i < n; i += BATCH) {
    const end = Math.min(n, i + BATCH);
    for (let j = i; j < end; j++) {
      const t0 = process.hrtime.bigint();
      send();
      samples[j] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    drain();
  }
  const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await new Promise((resolve) => setImmediate(resolve));
  drain();
  const received = toStdout ? null : receiver.entries.length;
  const viaMemfd = receiver.entries.filter((e) => e.viaMemfd).length;
  receiver.close();
  fs.writeSync(3, `${JSON.stringify({ samples, cpuUs: cpu.user + cpu.system - drainCpu, wallUs, received, warm, viaMemfd })}\n`);
}

main().catch((error) => {
  fs.writeSync(3, `${JSON.stringify({ error: String(error && error.stack) })}\n`);
  process.exitCode = 1;
});

// Section 1: the cost of one WATCHDOG=1, from our public API and from the peers,
// all to the same receiver (a FakeNotifyManager in this process), same run,
// rounds alternating, every message counted at the receiver.
import { fork, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import { benchDir } from '../lib/paths.mjs';
import { ensureNativePeer } from '../lib/peers.mjs';
import { median, p99, fmt, fmtRatio, ratio, table, goal } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';

const SENDERS = [
  { id: 'ours-connected', label: '@node-systemd/notify, `connect: true` (default)', kind: 'node', same: 'python-connected' },
  { id: 'ours-unconnected', label: '@node-systemd/notify, `connect: false`', kind: 'node', same: 'python' },
  { id: 'unix-dgram', label: 'unix-dgram 2.0.7, sendto', kind: 'node', peer: 'unix-dgram', same: 'python' },
  { id: 'unix-dgram-connected', label: 'unix-dgram 2.0.7, connect + send', kind: 'node', peer: 'unix-dgram', same: 'python-connected' },
  { id: 'node-unix-socket', label: 'node-unix-socket 0.2.7 (napi-rs), sendTo', kind: 'node', peer: 'node-unix-socket', same: 'python' },
  { id: 'sd-notify', label: 'sd-notify 2.8.0 (libsystemd sd_notify)', kind: 'node', peer: 'sd-notify' },
  { id: 'python', label: 'Python socket.sendto (the syscall floor)', kind: 'python', mode: 'sendto' },
  { id: 'python-connected', label: 'Python connect + socket.send', kind: 'python', mode: 'send' },
  { id: 'systemd-notify', label: 'spawn `systemd-notify WATCHDOG=1`', kind: 'node', slow: true },
];

const withTimeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms).unref()),
]);

function startNodeSender(id, manager) {
  const child = fork(join(benchDir, 'sections', 'transport-sender.cjs'), [id], {
    cwd: benchDir, env: { ...process.env, ...manager.env() }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting;
  child.on('message', (message) => {
    if (message.type === 'drain') {
      manager.drainQueue();
      child.send({ type: 'drained' });
    } else if (message.type === 'result' || message.type === 'error' || message.type === 'hello') {
      const w = waiting;
      waiting = undefined;
      w?.(message);
    }
  });
  const next = () => new Promise((resolve) => { waiting = resolve; });
  const ready = next();
  return {
    ready,
    async run(n, batch) {
      const answer = next();
      child.send({ type: 'run', n, batch });
      const message = await answer;
      if (message.type === 'error') throw new Error(message.message);
      return message.samples;
    },
    stop() {
      if (child.connected) child.send({ type: 'exit' });
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    },
  };
}

function startPythonSender(manager, mode) {
  const child = spawn('python3', [join(benchDir, 'sections', 'transport_sender.py'), mode], {
    env: { ...process.env, ...manager.env() }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let waiting;
  let failed;
  child.on('error', (error) => { failed = error; waiting?.(null); });
  child.on('exit', (code) => { if (code) { failed = new Error(`python3 exited ${code}`); waiting?.(null); } });
  lines.on('line', (line) => {
    if (line === 'drain') {
      manager.drainQueue();
      child.stdin.write('ok\n');
    } else {
      const w = waiting;
      waiting = undefined;
      w?.(JSON.parse(line));
    }
  });
  return {
    ready: Promise.resolve(),
    async run(n, batch) {
      if (failed) throw failed;
      const answer = new Promise((resolve) => { waiting = resolve; });
      child.stdin.write(`${JSON.stringify({ n, batch })}\n`);
      const message = await answer;
      if (!message) throw failed;
      return message.samples;
    },
    stop() {
      child.stdin.end('exit\n');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    },
  };
}

export async function run({ log, setup, quick }) {
  const rounds = quick ? 2 : 5;
  const perRound = quick ? 1000 : 4000;
  const slowPerRound = quick ? 3 : 6;
  const batch = 8; // below net.unix.max_dgram_qlen (10 by default)
  const manager = await FakeNotifyManager.start({ paused: true });
  const rows = [];
  const skipped = [];
  const senders = [];
  try {
    for (const spec of SENDERS) {
      if (spec.peer) {
        const reason = ensureNativePeer(spec.peer, log);
        // A peer that cannot run fails the section: a comparison table that
        // silently lost a row would claim more than it measured.
        if (reason) throw new Error(`transport: peer ${spec.peer} (${spec.label}) cannot run: ${reason}`);
      }
      const sender = spec.kind === 'python' ? startPythonSender(manager, spec.mode) : startNodeSender(spec.id, manager);
      await withTimeout(sender.ready, 20_000, `starting ${spec.id}`);
      senders.push({ spec, sender, samples: [], sent: 0, received: 0, roundMedians: [] });
    }
    const runOne = async (entry, n, record) => {
      const slow = entry.spec.slow;
      if (slow) manager.resume(); // systemd-notify waits for its BARRIER to be answered
      manager.drainQueue();
      manager.messages.length = 0;
      const samples = await withTimeout(entry.sender.run(n, slow ? 1 : batch), 120_000, `${entry.spec.id} round`);
      if (slow) manager.pause();
      manager.drainQueue();
      const received = manager.messages.filter((m) => m.fields.WATCHDOG === '1').length;
      manager.messages.length = 0;
      if (!record) return;
      entry.samples.push(...samples);
      entry.sent += n;
      entry.received += received;
      entry.roundMedians.push(median(samples));
    };
    log(`transport: warm-up`);
    for (const entry of senders) await runOne(entry, entry.spec.slow ? 1 : 1000, false);
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so that no sender always runs first or last.
      const order = senders.map((_, i) => senders[(i + round) % senders.length]);
      for (const entry of order) await runOne(entry, entry.spec.slow ? slowPerRound : perRound, true);
      log(`transport: round ${round + 1}/${rounds} done`);
    }
  } finally {
    for (const entry of senders) entry.sender.stop();
    manager.close();
  }
  for (const entry of senders) {
    rows.push({
      id: entry.spec.id,
      label: entry.spec.label,
      median: median(entry.samples),
      p99: p99(entry.samples),
      sent: entry.sent,
      received: entry.received,
      roundMedians: entry.roundMedians,
      same: entry.spec.same,
    });
  }
  return { section: 'transport', setup, rounds, perRound, slowPerRound, batch, rows, skipped };
}

export function render(result) {
  const byId = Object.fromEntries(result.rows.map((r) => [r.id, r]));
  const floor = byId.python?.median;
  const sd = byId['sd-notify']?.median;
  const lines = [];
  lines.push('## 1. Transport: one `WATCHDOG=1`');
  lines.push('');
  lines.push(setupLine(result.setup, `${result.rounds} alternating rounds × ${result.perRound} sends per library (systemd-notify: ${result.slowPerRound}), batches of ${result.batch} drained between batches, one receiver`));
  lines.push('');
  const rows = result.rows.map((r) => [
    r.label,
    fmt(r.median), fmt(r.p99),
    fmtRatio(ratio(r.median, floor)),
    r.same ? fmtRatio(ratio(r.median, byId[r.same]?.median)) : '',
    r.id === 'sd-notify' || !sd ? '' : fmtRatio(ratio(sd, r.median)),
    `${r.received}/${r.sent}`,
  ]);
  lines.push(table(['sender', 'median µs', 'p99 µs', '× Python sendto (median)', '× Python, same syscall', 'sd-notify ÷ this (median)', 'received/sent'], rows));
  for (const s of result.skipped) lines.push(`\nSkipped ${s.label}: ${s.reason}`);
  const ours = byId['ours-connected'];
  const oursUnconnected = byId['ours-unconnected'];
  const goals = [
    goal('ours (connected) vs the Python floor, median', ratio(ours?.median, floor), '<=', 1.2),
    goal('ours (connected) vs Python connected send, same syscall, median', ratio(ours?.median, byId['python-connected']?.median), '<=', 1.3),
    goal('ours (connect: false) vs Python sendto, same syscall, median', ratio(oursUnconnected?.median, floor), '<=', 1.3),
    goal('ours (connected) faster than sd-notify, median', ratio(sd, ours?.median), '>=', 3),
  ];
  lines.push('');
  lines.push('The goal compares our default (connected) sender with Python\'s `sendto`, the floor; the column "same syscall" compares like with like (connected `send` with connected `send`, `sendto` with `sendto`). Our times include the call through the public API and awaiting the promise it returns; `WATCHDOG=1` is encoded once per process, and a datagram the kernel takes at once settles with a shared, already resolved promise, so a ping costs the syscall plus about 0.2 µs. node-unix-socket has `sendTo` and no `connect`, so it has one row. `systemd-notify` also waits for a `BARRIER=1` answer, and under systemd its messages are dropped (the sender is the child, not the main PID).');
  const drops = result.rows.filter((r) => r.received !== r.sent);
  return { markdown: lines.join('\n'), goals, notes: drops.map((r) => `${r.label}: ${r.sent - r.received} of ${r.sent} messages did not arrive`) };
}

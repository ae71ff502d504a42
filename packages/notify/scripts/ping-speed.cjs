#!/usr/bin/env node
'use strict';
// A quick figure, not a test: median µs per watchdogPing() on a connected socket,
// beside Python's socket.sendto() of the same datagram to the same fake manager,
// in the same run. Needs the built package (pnpm --filter @node-systemd/notify build).
//
//   node scripts/ping-speed.cjs [rounds=2500] [batch=8]
//
// Batches stay under net.unix.max_dgram_qlen (10 on a stock kernel; systemd raises
// it to 512), and the manager drains between batches, so no send meets a full queue.
const { spawn } = require('node:child_process');
const { Notifier } = require('../dist/index.js');
const { FakeNotifyManager } = require('../dist/testing/index.js');

const rounds = Number(process.argv[2] ?? 2500);
const batch = Number(process.argv[3] ?? 8);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(sorted.length / 2)];
};
const fmt = (ns) => (ns / 1000).toFixed(2);

const PYTHON = `
import socket, sys, time
path, rounds, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
address = ("\\0" + path[1:]) if path.startswith("@") else path
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
msg = b"WATCHDOG=1"
times = []
for r in range(rounds):
    for i in range(batch):
        t = time.perf_counter_ns()
        s.sendto(msg, address)
        times.append(time.perf_counter_ns() - t)
    time.sleep(0.003)  # let the manager (polling every 1 ms) drain its queue
times.sort()
print(times[len(times) // 2])
`;

async function main() {
  const manager = await FakeNotifyManager.start({ pollIntervalMs: 1 });
  const notifier = new Notifier({ socket: manager.socket });
  const awaited = [];
  const sync = [];
  try {
    await notifier.watchdogPing(); // opens and connects the socket, loads the addon
    for (let warm = 0; warm < 2000; warm++) {
      await notifier.watchdogPing();
      if (warm % batch === 0) manager.drainQueue();
    }
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < batch; i++) {
        const t = process.hrtime.bigint();
        await notifier.watchdogPing();
        awaited.push(Number(process.hrtime.bigint() - t));
      }
      manager.drainQueue();
      for (let i = 0; i < batch; i++) {
        const t = process.hrtime.bigint();
        void notifier.watchdogPing();
        sync.push(Number(process.hrtime.bigint() - t));
      }
      manager.drainQueue();
      if (r % 100 === 0) await sleep(1);
    }
    // Asynchronously: the manager must keep reading while Python sends.
    const python = spawn('python3', ['-c', PYTHON, manager.socket, String(rounds), String(batch)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    python.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    const code = await new Promise((resolve) => python.on('exit', resolve));
    if (code !== 0) throw new Error(`python3 exited with ${code}`);
    const pythonNs = Number(out.trim());
    manager.drainQueue();
    console.log(`Node ${process.version}, ${rounds * batch} pings each, socket ${manager.socket}`);
    console.log(`  watchdogPing(), awaited          median ${fmt(median(awaited))} µs`);
    console.log(`  watchdogPing(), call only        median ${fmt(median(sync))} µs`);
    console.log(`  python3 socket.sendto (unconn.)  median ${fmt(pythonNs)} µs`);
    console.log(`  manager received ${manager.messages.length} datagrams`);
  } finally {
    notifier.close();
    manager.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

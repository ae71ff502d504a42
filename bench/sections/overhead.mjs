// Section 3: what the adapter costs per request. autocannon against each
// framework's hello app with and without our adapter, both running at once,
// alternating A-B-B-A over several rounds; ratios per round, median reported.
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import { startServer } from '../lib/servers.mjs';
import { median, quantile, fmt, fmtRatio, table } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';
import { FRAMEWORKS } from '../lib/frameworks.mjs';

let autocannon;


/** One autocannon run, with every response time kept (autocannon's own histogram is in whole ms). */
async function load(port, { connections, durationS }) {
  autocannon ??= (await import('autocannon')).default;
  return await new Promise((resolve, reject) => {
    let latencies = new Float64Array(1 << 16);
    let count = 0;
    const instance = autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: durationS }, (error, result) => {
      if (error) return reject(error);
      const samples = latencies.subarray(0, count);
      resolve({
        rps: result.requests.total / durationS,
        p99: quantile(samples, 0.99),
        p50: quantile(samples, 0.5),
        errors: result.errors + result.timeouts + result.non2xx,
      });
    });
    instance.on('response', (client, statusCode, bytes, ms) => {
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = ms;
    });
  });
}

export async function run({ log, setup, quick }) {
  const opts = { connections: 10, durationS: quick ? 1 : 2.5 };
  const rounds = quick ? 2 : 6;
  const manager = await FakeNotifyManager.start({});
  // As under systemd: notifications on, the watchdog at 30 s (pings every 15 s).
  const env = { ...manager.env(), WATCHDOG_USEC: '30000000', PORT: '0' };
  const results = [];
  try {
    for (const fw of FRAMEWORKS) {
      let plain;
      let ours;
      try {
        plain = await startServer('hello-app.mjs', [fw.id, 'plain'], { env });
        ours = await startServer('hello-app.mjs', [fw.id, 'ours'], { env });
      } catch (error) {
        await plain?.stop();
        results.push({ ...fw, skipped: String(error.message ?? error).slice(0, 300) });
        log(`overhead ${fw.id}: skipped: ${error.message ?? error}`);
        continue;
      }
      try {
        // Warm-up (JIT, sockets), alternating too.
        for (let i = 0; i < 2; i++) {
          await load(plain.port, { ...opts, durationS: 1 });
          await load(ours.port, { ...opts, durationS: 1 });
        }
        const pairs = [];
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? ['plain', 'ours'] : ['ours', 'plain']; // A-B, B-A, ...
          const pair = {};
          for (const which of order) pair[which] = await load((which === 'plain' ? plain : ours).port, opts);
          pairs.push(pair);
          log(`overhead ${fw.id} round ${round + 1}/${rounds}: ${Math.round(pair.plain.rps)} vs ${Math.round(pair.ours.rps)} req/s, p99 ${pair.plain.p99.toFixed(3)} vs ${pair.ours.p99.toFixed(3)} ms`);
        }
        results.push({
          ...fw,
          rounds,
          plainRps: median(pairs.map((p) => p.plain.rps)),
          oursRps: median(pairs.map((p) => p.ours.rps)),
          plainP99: median(pairs.map((p) => p.plain.p99)),
          oursP99: median(pairs.map((p) => p.ours.p99)),
          rpsRatio: median(pairs.map((p) => p.ours.rps / p.plain.rps)),
          p99Ratio: median(pairs.map((p) => p.ours.p99 / p.plain.p99)),
          rpsRatios: pairs.map((p) => p.ours.rps / p.plain.rps),
          p99Ratios: pairs.map((p) => p.ours.p99 / p.plain.p99),
          errors: pairs.reduce((a, p) => a + p.plain.errors + p.ours.errors, 0),
        });
      } finally {
        await plain.stop();
        await ours.stop();
      }
    }
  } finally {
    manager.close();
  }
  return { section: 'overhead', setup, ...opts, rounds, results };
}

export function render(result) {
  const lines = ['## 3. Overhead per request', ''];
  lines.push(setupLine(result.setup, `autocannon 9.0.0 in the runner process, ${result.connections} connections, ${result.durationS} s per run, ${result.rounds} rounds alternating A-B-B-A (both servers up at once, each a child process), ratios per round then the median; latencies from every response (autocannon's own histogram is in whole ms); NOTIFY_SOCKET set (fake manager) and WATCHDOG_USEC=30 s`));
  lines.push('');
  const rows = result.results.map((r) => r.skipped
    ? [r.label, r.ours, `skipped: ${r.skipped}`, '', '', '', '', '', '']
    : [r.label, r.ours, fmt(r.plainRps), fmt(r.oursRps), fmtRatio(r.rpsRatio), fmt(r.plainP99, 3), fmt(r.oursP99, 3), fmtRatio(r.p99Ratio), r.errors]);
  lines.push(table(['framework', 'adapter', 'req/s without', 'req/s with', 'throughput ratio', 'p99 ms without', 'p99 ms with', 'p99 ratio', 'errors'], rows));
  const goals = [];
  for (const r of result.results.filter((x) => !x.skipped)) {
    goals.push({ label: `${r.label}: throughput with ÷ without (rounds: ${r.rpsRatios.map((x) => x.toFixed(3)).join(', ')})`, value: `${r.rpsRatio.toFixed(3)}×`, goal: '≥ 0.98×', met: r.rpsRatio >= 0.98 });
    goals.push({ label: `${r.label}: p99 latency with ÷ without (rounds: ${r.p99Ratios.map((x) => x.toFixed(2)).join(', ')})`, value: `${r.p99Ratio.toFixed(3)}×`, goal: '≤ 1.05×', met: r.p99Ratio <= 1.05 });
  }
  const notes = result.results.filter((x) => x.skipped).map((r) => `${r.label} did not run: ${r.skipped}`);
  return { markdown: lines.join('\n'), goals, notes };
}

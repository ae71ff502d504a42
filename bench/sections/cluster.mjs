// Section 6: cluster mode. (1) Requests/s through a runCluster() primary with 1
// and with 2 workers (the Fastify hello app with our adapter), autocannon,
// alternating. (2) Failed requests during 5 rolling reloads under the same
// keep-alive load: ours (SIGHUP to the primary) against `pm2 reload` of the same
// app in pm2's cluster mode (2 instances).
import { execFile, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { benchDir } from '../lib/paths.mjs';
import { fmt, fmtRatio, median, ratio, table } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';

const FRAMEWORK = 'fastify';
const CONNECTIONS = 8;
const RELOADS = 5;
const PM2_VERSION = '7.0.4';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const execFileAsync = promisify(execFile);
let autocannon;

async function freePort() {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A runCluster() primary as a child; resolves once every worker listens. */
function startPrimary(workers, port) {
  const child = spawn(process.execPath, [join(benchDir, 'sections', 'cluster-primary.mjs'), FRAMEWORK, String(workers)], {
    cwd: benchDir,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.findIndex((w) => line.startsWith(w.prefix));
    if (waiter >= 0) waiters.splice(waiter, 1)[0].resolve(line);
  });
  const next = (prefix, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${prefix}" from the primary within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({ prefix, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => (clearTimeout(kill), resolve()));
      child.kill('SIGTERM');
    });
  return next('cluster-ready').then(() => ({ child, next, stop }));
}

async function throughput(port, durationS, connections) {
  autocannon ??= (await import('autocannon')).default;
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: durationS }, (error, result) =>
      error ? reject(error) : resolve({ rps: result.requests.total / durationS, errors: result.errors + result.timeouts + result.non2xx }),
    );
  });
}

/** The keep-alive load of the restart section, while `act()` runs; its counts. */
async function underLoad(port, act) {
  const load = fork(join(benchDir, 'sections', 'restart-load.mjs'), [port, CONNECTIONS, 180_000], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise((resolve) => load.on('message', (m) => m.type === 'result' && resolve(m.stats)));
  await new Promise((resolve) => load.once('message', resolve));
  const times = [];
  try {
    await sleep(800);
    for (let i = 0; i < RELOADS; i++) {
      const started = Date.now();
      await act();
      times.push(Date.now() - started);
      await sleep(600);
    }
  } finally {
    load.send({ type: 'stop' });
  }
  return { ...(await result), reloadMs: median(times) };
}

async function reloadOurs(log) {
  const port = await freePort();
  const primary = await startPrimary(2, port);
  try {
    const stats = await underLoad(port, async () => {
      const done = Promise.race([primary.next('cluster-reloaded'), primary.next('cluster-reload-failed').then((line) => Promise.reject(new Error(line)))]);
      primary.child.kill('SIGHUP');
      await done;
    });
    log(`cluster reload ours: ${stats.failed}/${stats.requests} failed`);
    return stats;
  } finally {
    await primary.stop();
  }
}

async function reloadPm2(log) {
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'nsd-bench-pm2-'));
  const pm2 = join(benchDir, 'node_modules', '.bin', 'pm2');
  const env = { ...process.env, PM2_HOME: home, PORT: String(port) };
  const pm2run = (...args) => execFileAsync(pm2, args, { env, cwd: benchDir, timeout: 120_000 });
  try {
    await pm2run('start', join(benchDir, 'sections', 'hello-app.mjs'), '-i', '2', '--name', 'bench-cluster', '--', FRAMEWORK, 'ours');
    for (let i = 0; ; i++) {
      const { stdout } = await pm2run('jlist');
      const online = JSON.parse(stdout).filter((p) => p.pm2_env?.status === 'online').length;
      if (online === 2) break;
      if (i > 200) throw new Error('pm2 did not bring 2 instances online');
      await sleep(100);
    }
    const stats = await underLoad(port, () => pm2run('reload', 'bench-cluster'));
    log(`cluster reload pm2: ${stats.failed}/${stats.requests} failed`);
    return stats;
  } finally {
    await pm2run('kill').catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run({ log, setup, quick }) {
  const rounds = quick ? 1 : 3;
  const durationS = quick ? 3 : 5;
  const connections = 50;
  const rps = { 1: [], 2: [] };
  const port = { 1: await freePort(), 2: await freePort() };
  const primaries = { 1: await startPrimary(1, port[1]), 2: await startPrimary(2, port[2]) };
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate the order: the machine is shared and its load drifts.
      for (const workers of round % 2 === 0 ? [1, 2] : [2, 1]) {
        const r = await throughput(port[workers], durationS, connections);
        rps[workers].push(r.rps);
        log(`cluster throughput ${workers} worker(s): ${fmt(r.rps)} req/s${r.errors ? `, ${r.errors} errors` : ''}`);
      }
    }
  } finally {
    await Promise.all(Object.values(primaries).map((p) => p.stop()));
  }
  const ours = await reloadOurs(log);
  let pm2;
  try {
    pm2 = await reloadPm2(log);
  } catch (error) {
    pm2 = { skipped: String(error.message ?? error).split('\n')[0] };
    log(`cluster reload pm2: skipped: ${pm2.skipped}`);
  }
  return { section: 'cluster', setup, framework: FRAMEWORK, connections, durationS, rounds, rps: { one: median(rps[1]), two: median(rps[2]), all: rps }, reloads: RELOADS, loadConnections: CONNECTIONS, ours, pm2 };
}

export function render(result) {
  const lines = ['## 6. Cluster mode', ''];
  lines.push(setupLine(result.setup, `the ${result.framework} hello app with our adapter as the worker of a \`runCluster()\` primary (bench/sections/cluster-primary.mjs), off systemd, on a port the workers share through the primary; throughput: autocannon 9.0.0 in the runner process, ${result.connections} connections, ${result.rounds} rounds of ${result.durationS} s per setup, alternating, median; reloads: ${result.loadConnections} keep-alive clients (bench/sections/restart-load.mjs) while ${result.reloads} rolling reloads run 600 ms apart`));
  lines.push('');
  lines.push(table(['workers', 'requests/s (median)', 'vs 1 worker'], [
    ['1', fmt(result.rps.one), '1.00×'],
    ['2', fmt(result.rps.two), fmtRatio(ratio(result.rps.two, result.rps.one))],
  ]));
  lines.push('');
  const row = (label, s) => (s.skipped ? [label, `skipped: ${s.skipped}`, '', '', ''] : [label, s.requests, s.failed, Object.entries(s.kinds).map(([k, n]) => `${k} ${n}`).join(', '), fmt(s.reloadMs)]);
  lines.push(table(['rolling reload', 'requests', 'failed', 'failures', 'reload ms (median)'], [
    row('ours: SIGHUP to the runCluster() primary (2 workers)', result.ours),
    row(`pm2 ${PM2_VERSION}: \`pm2 reload\`, cluster mode, 2 instances`, result.pm2),
  ]));
  lines.push('');
  lines.push('The same app and the same load in both rows. Ours forks the new worker, waits until it listens, then drains the old one, each worker accepting on the shared socket itself (`SCHED_NONE`); pm2 (default settings) distributes connections from its daemon round-robin and stops the old instance with SIGINT, then SIGKILL after its `kill_timeout`. The 2-worker throughput is bounded by a 2-core machine that also runs the load generator.');
  const goals = [{ label: `cluster: failed requests over ${result.reloads} rolling reloads (ours)`, value: `${result.ours.failed}/${result.ours.requests}`, goal: '0', met: result.ours.failed === 0 }];
  const notes = result.pm2.skipped ? [`pm2 not measured: ${result.pm2.skipped}`] : [];
  return { markdown: lines.join('\n'), goals, notes };
}

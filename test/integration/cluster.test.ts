// Cluster mode under systemd-socket-activate with a fake manager: the primary
// (fixtures/cluster-primary.cjs) runs N workers (fixtures/cluster-worker.cjs, an
// ordinary app on an adapter) that share the activated socket. Real sockets,
// real signals, real HTTP clients in another process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeNotifyManager, spawnWithListenFds, type ReceivedMessage } from '@node-systemd/notify/testing';
import { freePort, listeningSockets, startLoadClient } from './harness.js';

const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';
const primaryScript = join(__dirname, 'fixtures', 'cluster-primary.cjs');

interface Primary {
  manager: FakeNotifyManager;
  child: ChildProcess;
  port: number;
  versionFile: string;
  lines: string[];
  waitLine(match: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  waitMessage(test: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): void;
}

function get(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The primary as a child: under systemd-socket-activate on a fresh port
 * (`activate`, default), on the port the workers bind themselves (`{ port }`), or
 * handed `fds` the way systemd passes stored ones (`{ port, fds }`).
 */
async function startPrimary(
  env: Record<string, string> = {},
  version = '1.0.0',
  how: 'activate' | { port: number; fds?: number[]; manager?: FakeNotifyManager } = 'activate',
): Promise<Primary> {
  const manager = how === 'activate' || !how.manager ? await FakeNotifyManager.start() : how.manager;
  const dir = mkdtempSync(join(tmpdir(), 'nsd-cluster-'));
  const versionFile = join(dir, 'VERSION');
  writeFileSync(versionFile, version);
  const port = how === 'activate' ? await freePort() : how.port;
  const all = { ...manager.env(), VERSION_FILE: versionFile, NODE_OPTIONS: '', ...env };
  const setenv = Object.entries(all).flatMap(([key, value]) => ['-E', `${key}=${value}`]);
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe'];
  const child =
    how === 'activate'
      ? spawn(SOCKET_ACTIVATE, ['-l', `127.0.0.1:${port}`, '--fdname=http', ...setenv, process.execPath, primaryScript], { stdio })
      : how.fds
        ? spawnWithListenFds(process.execPath, [primaryScript], how.fds.map((fd) => ({ fd, fdName: 'http' })), { env: { ...process.env, ...all }, stdio })
        : spawn(process.execPath, [primaryScript], { env: { ...process.env, ...all, PORT: String(port) }, stdio });
  const lines: string[] = [];
  const wakers = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const wake of wakers) wake();
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (/^Listening on/.test(line)) resolve();
      else if (!/^(Communication attempt|Execing)/.test(line)) process.stderr.write(`${line}\n`);
    });
    if (how !== 'activate') resolve();
    child.once('exit', (code) => reject(new Error(`the primary (or systemd-socket-activate) exited with ${code}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitLine = (match: RegExp, timeoutMs = 20_000, from = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.slice(from).find((line) => match.test(line));
        if (found === undefined) return;
        wakers.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        reject(new Error(`no line ${String(match)} within ${timeoutMs} ms; got ${JSON.stringify(lines.slice(-30))}`));
      }, timeoutMs);
      wakers.add(check);
      check();
    });
  const waitMessage = (test: (message: ReceivedMessage) => boolean, timeoutMs = 20_000): Promise<ReceivedMessage> => manager.waitFor(test, { timeoutMs });
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) {
      // The primary's workers first: a killed primary leaves them to exit on their own.
      for (const pid of workerPids(lines)) killQuietly(pid);
      child.kill('SIGKILL');
    }
    if (how === 'activate' || !how.manager) manager.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { manager, child, port, versionFile, lines, waitLine, waitMessage, exited, stop };
}

function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Workers forked and not yet exited, from the primary's event lines. */
function workerPids(lines: readonly string[]): number[] {
  const alive = new Set<number>();
  for (const line of lines) {
    const [event, pid] = line.split(' ');
    if (event === 'fork') alive.add(Number(pid));
    if (event === 'exit') alive.delete(Number(pid));
  }
  return [...alive];
}

/** Waits for `done()`, re-checking after each `next()` event. */
async function waitUntil(done: () => boolean, next: () => Promise<unknown>): Promise<void> {
  while (!done()) await next();
}

const isReady = (m: ReceivedMessage): boolean => m.fields.READY === '1';

test('READY=1 only after all 3 workers listen, each on the shared activated socket', { timeout: 60_000 }, async () => {
  const primary = await startPrimary({ WORKERS: '3', START_DELAY_MS: '300' });
  try {
    // systemd-socket-activate execs the primary on the first connection.
    const first = get(primary.port);
    const ready = await primary.waitMessage(isReady);
    const pids = (await primary.waitLine(/^ready /)).slice(6).split(',').map(Number);
    assert.equal(pids.length, 3);
    // Every worker holds the listening socket by the time READY=1 went out.
    for (const pid of pids) assert.ok(listeningSockets(pid) >= 1, `worker ${pid} listens`);
    assert.match(ready.fields.STATUS ?? '', /^3\/3 workers ready, version 1\.0\.0/);
    const before = primary.manager.messages.slice(0, primary.manager.messages.indexOf(ready)).map((m) => m.fields.STATUS);
    assert.ok(before.includes('starting: 2/3 workers ready, version 1.0.0'), `the start went through 2/3: ${JSON.stringify(before)}`);
    assert.ok(primary.manager.messages.every((m) => m.pid === primary.child.pid), 'only the primary notified');
    assert.match(await first, /^1\.0\.0 \d+$/);
  } finally {
    primary.stop();
  }
});

interface BusyResult {
  ok: number;
  closeHeaders: number;
  outcomes: Record<string, number>;
}

async function readyPrimary(env: Record<string, string> = {}, version = '1.0.0', how: Parameters<typeof startPrimary>[2] = 'activate'): Promise<{ primary: Primary; pids: number[] }> {
  const primary = await startPrimary(env, version, how);
  // systemd-socket-activate execs the primary on the first connection.
  if (how === 'activate') await get(primary.port);
  await primary.waitMessage(isReady);
  const pids = (await primary.waitLine(/^ready /)).slice(6).split(',').map(Number);
  return { primary, pids };
}

for (const framework of ['http', 'express', 'koa', 'fastify']) {
  test(`${framework}: SIGHUP rolls every worker to the version on disk under 8 busy keep-alive clients, 0 failed`, { timeout: 60_000 }, async () => {
    const { primary, pids } = await readyPrimary({ FRAMEWORK: framework });
    const client = await startLoadClient({ port: primary.port });
    try {
      await client.call('busy', { clients: 8 });
      writeFileSync(primary.versionFile, '2.0.0');
      const from = primary.manager.messages.length;
      primary.child.kill('SIGHUP');
      const reloading = await primary.manager.waitFor('RELOADING', { from, timeoutMs: 5000 });
      assert.match(reloading.fields.MONOTONIC_USEC ?? '', /^\d+$/);
      const done = await primary.manager.waitFor(isReady, { from, timeoutMs: 30_000 });
      assert.match(done.fields.STATUS ?? '', /^2\/2 workers ready, version 2\.0\.0/);
      assert.ok(primary.manager.messages.slice(from).some((m) => m.fields.EXTEND_TIMEOUT_USEC !== undefined), 'the reload asked for time');
      const answers = await Promise.all(Array.from({ length: 20 }, () => get(primary.port)));
      assert.ok(answers.every((body) => body.startsWith('2.0.0 ')), `after READY=1 only the new version answers: ${answers.join(', ')}`);
      const result = await client.call<BusyResult>('busyStop');
      console.log(`# ${framework} reload: ${result.ok} answered, ${result.closeHeaders} with Connection: close, failures ${JSON.stringify(result.outcomes)}`);
      assert.deepEqual(result.outcomes, {}, 'no request failed');
      for (const pid of pids) await primary.waitLine(new RegExp(`^exit ${pid} 0 clean$`));
    } finally {
      client.stop();
      primary.stop();
    }
  });
}

test('a reload to a version that cannot start is aborted: the old workers keep serving, STATUS= and the journal say why', { timeout: 60_000 }, async () => {
  const { primary, pids } = await readyPrimary();
  const client = await startLoadClient({ port: primary.port });
  try {
    await client.call('busy', { clients: 8 });
    writeFileSync(primary.versionFile, 'broken-2.0.0');
    const from = primary.manager.messages.length;
    primary.child.kill('SIGHUP');
    const answer = await primary.manager.waitFor(isReady, { from, timeoutMs: 30_000 });
    assert.match(answer.fields.STATUS ?? '', /reload to broken-2\.0\.0 failed: the new worker exited with code 1 before it listened; still serving version 1\.0\.0/);
    assert.equal(answer.fields.ERRNO, '10');
    await primary.waitLine(/^log cluster: reload to broken-2\.0\.0 failed/);
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(primary.port)));
    assert.ok(answers.every((body) => body.startsWith('1.0.0 ')), answers.join(', '));
    const result = await client.call<BusyResult>('busyStop');
    assert.deepEqual(result.outcomes, {}, 'no request failed');
    assert.ok(result.ok > 0);
    assert.deepEqual(workerPids(primary.lines).sort(), [...pids].sort(), 'the same workers serve');
  } finally {
    client.stop();
    primary.stop();
  }
});

test('a worker stuck in a busy loop is replaced while the primary keeps pinging the watchdog', { timeout: 60_000 }, async () => {
  // WatchdogSec=2s: the primary pings every second, a worker's heartbeat may be 1 s old.
  const { primary, pids } = await readyPrimary({ WATCHDOG_USEC: '2000000' });
  try {
    const stuck = Number((await get(primary.port, '/spin?ms=8000')).split(' ')[1]);
    assert.ok(pids.includes(stuck));
    const spunAt = process.hrtime.bigint();
    await primary.waitLine(new RegExp(`^replaced ${stuck}$`), 10_000);
    const exit = await primary.waitLine(new RegExp(`^exit ${stuck} `), 10_000);
    assert.match(exit, /SIGKILL unclean$/, 'a stuck worker cannot drain: it is killed');
    const back = await primary.manager.waitFor((m) => /^2\/2 workers ready/.test(m.fields.STATUS ?? '') && m.receivedAt > spunAt, { timeoutMs: 10_000 });
    // No gap in the pings from the spin until the replacement listens.
    const pings = primary.manager.messages.filter((m) => m.fields.WATCHDOG === '1' && m.receivedAt >= spunAt - 1_000_000_000n && m.receivedAt <= back.receivedAt + 1_000_000_000n);
    const gaps = pings.slice(1).map((m, i) => Number(m.receivedAt - pings[i]!.receivedAt) / 1e6);
    assert.ok(pings.length >= 2, `pings went on: ${pings.length}`);
    assert.ok(gaps.every((gap) => gap < 2000), `no gap reached the 2 s watchdog timeout: ${gaps.join(', ')}`);
    assert.ok(!primary.lines.includes('watchdog-skip unhealthy'), 'no ping was withheld');
  } finally {
    primary.stop();
  }
});

test('a killed worker is replaced and the service stays ready', { timeout: 60_000 }, async () => {
  const { primary, pids } = await readyPrimary();
  try {
    const killed = pids[0]!;
    const from = primary.lines.length;
    process.kill(killed, 'SIGKILL');
    await primary.waitLine(new RegExp(`^exit ${killed} SIGKILL unclean$`));
    const fork = Number((await primary.waitLine(/^fork /, 10_000, from)).slice(5));
    await primary.waitLine(new RegExp(`^worker-listening ${fork} `), 10_000);
    await primary.manager.waitFor((m) => /^2\/2 workers ready/.test(m.fields.STATUS ?? '') && primary.manager.messages.indexOf(m) > 0, { timeoutMs: 10_000 });
    assert.deepEqual(workerPids(primary.lines).sort(), [pids[1]!, fork].sort(), primary.lines.join('\n'));
    assert.match(await get(primary.port), /^1\.0\.0 /);
    assert.equal(primary.child.exitCode, null, 'the primary runs on');
  } finally {
    primary.stop();
  }
});

test('workers that crash at start are restarted with growing delays, STATUS= says so, and then the pings stop', { timeout: 60_000 }, async () => {
  // On a port the workers bind (through the primary): with passed sockets, losing every worker ends the primary at once (next test).
  const { primary, pids } = await readyPrimary({ WATCHDOG_USEC: '2000000', BACKOFF_MS: '200' }, '1.0.0', { port: await freePort() });
  try {
    writeFileSync(primary.versionFile, 'broken-2.0.0');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const looping = await primary.manager.waitFor((m) => /workers crash-looping \(\d+ crashes in a row/.test(m.fields.STATUS ?? ''), { timeoutMs: 20_000 });
    assert.match(looping.fields.STATUS ?? '', /^0\/2 workers ready/);
    // Three skipped ticks in a row: between the second and the third, no ping at all.
    const first = primary.lines.length;
    await primary.waitLine(/^watchdog-skip unhealthy$/, 10_000, first);
    const second = primary.lines.length;
    await primary.waitLine(/^watchdog-skip unhealthy$/, 10_000, second);
    const pingsBefore = primary.manager.valuesOf('WATCHDOG').length;
    await primary.waitLine(/^watchdog-skip unhealthy$/, 10_000, primary.lines.length);
    assert.equal(primary.manager.valuesOf('WATCHDOG').length, pingsBefore, 'no ping while no worker can start');
    // The delays before each new start grew.
    const starts = primary.lines.filter((line) => /starting another in \d+ ms/.test(line)).map((line) => Number(/in (\d+) ms/.exec(line)![1]));
    assert.ok(starts.length >= 2 && starts.at(-1)! > starts[0]!, `delays grow: ${starts.join(', ')}`);
  } finally {
    primary.stop();
  }
});

test('SIGTERM drains every worker in parallel: 0 failed in-flight requests, idle keep-alive closed, STATUS=drained, exit 0', { timeout: 60_000 }, async () => {
  const { primary, pids } = await readyPrimary();
  const client = await startLoadClient({ port: primary.port });
  try {
    const idle = await client.call<{ failed: number; opened: number }>('idle', { n: 50 });
    assert.equal(idle.failed, 0);
    await client.call('inflight', { n: 20, path: '/slow?ms=800' });
    const inflight = client.next<{ replies: Array<{ status?: number; connection?: string; error?: string }> }>('inflight-done');
    await waitUntil(() => primary.lines.filter((line) => line.startsWith('slow-start ')).length === 20, () => primary.waitLine(/^slow-start /, 10_000, primary.lines.length));
    const from = primary.manager.messages.length;
    const sentAt = process.hrtime.bigint();
    primary.child.kill('SIGTERM');
    const exit = await primary.exited;
    const tookMs = Number(process.hrtime.bigint() - sentAt) / 1e6;
    const { replies } = await inflight;
    const counts = await client.call<{ idleOpened: number; idleClosed: number }>('counts');
    console.log(`# SIGTERM to exit ${tookMs.toFixed(0)} ms: ${replies.length} in flight answered ${replies.filter((r) => r.status === 200).length}, idle closed ${counts.idleClosed}/${counts.idleOpened}`);
    assert.equal(exit.code, 0);
    assert.deepEqual(replies.filter((r) => r.status !== 200), [], 'every in-flight request was answered');
    assert.ok(replies.every((r) => r.connection === 'close'), 'in-flight responses said Connection: close');
    assert.equal(counts.idleClosed, counts.idleOpened, 'every idle keep-alive connection was closed by the workers');
    const after = primary.manager.messages.slice(from).map((m) => m.fields);
    assert.ok(after.some((f) => f.STOPPING === '1' && /^stopping: 2 of 2 workers draining/.test(f.STATUS ?? '')), JSON.stringify(after));
    assert.ok(after.some((f) => f.STATUS === 'drained (2 workers)'), JSON.stringify(after));
    for (const pid of pids) assert.ok(primary.lines.includes(`exit ${pid} 0 clean`), `worker ${pid} exited 0`);
  } finally {
    client.stop();
    primary.stop();
  }
});

test('fd store: the primary stores the workers\' socket (once); a new primary handed it back serves the queued connections, 0 failed', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const first = await startPrimary({ STORE_LISTENER: '1' }, '1.0.0', { port });
  let second: Primary | undefined;
  let client: Awaited<ReturnType<typeof startLoadClient>> | undefined;
  try {
    await first.waitMessage(isReady);
    await first.waitLine(/^ready /);
    const stored = await first.manager.waitFor('FDSTORE', { timeoutMs: 10_000 });
    assert.equal(stored.fields.FDNAME, 'http');
    assert.equal(stored.pid, first.child.pid, 'the primary stored it');
    assert.equal(stored.fds.length, 1);
    client = await startLoadClient({ port });
    await client.call('busy', { clients: 8 });
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);
    // Like systemd after a restart: the stored fd comes back through LISTEN_FDS.
    second = await startPrimary({}, '2.0.0', { port, fds: stored.fds, manager: first.manager });
    await second.waitLine(/^ready /);
    assert.match(await get(port), /^2\.0\.0 /);
    const result = await client.call<BusyResult>('busyStop');
    console.log(`# fd store handover: ${result.ok} answered, failures ${JSON.stringify(result.outcomes)}`);
    assert.deepEqual(result.outcomes, {}, 'no request failed across the handover');
    assert.equal(first.manager.messages.filter((m) => m.fields.FDSTORE === '1' && m.pid === first.child.pid).length, 1, 'stored once, not once per worker');
  } finally {
    client?.stop();
    second?.stop();
    first.stop();
  }
});

test('the last worker on the passed sockets dies: the primary says why, drains and exits 1, for systemd to restart the service', { timeout: 60_000 }, async () => {
  const { primary, pids } = await readyPrimary({ WORKERS: '1' });
  try {
    process.kill(pids[0]!, 'SIGKILL');
    const exit = await primary.exited;
    assert.equal(exit.code, 1);
    assert.ok(primary.lines.some((line) => /^log cluster: the last worker listening on the passed sockets exited \(SIGKILL\); restarting the service/.test(line)), primary.lines.join('\n'));
    assert.ok(primary.manager.valuesOf('STATUS').some((status) => status.includes('the last worker listening on the passed sockets exited')));
    assert.ok(!primary.lines.some((line) => line.startsWith('fork ') && !line.endsWith(String(pids[0]))), 'no worker was started on a closed socket');
  } finally {
    primary.stop();
  }
});

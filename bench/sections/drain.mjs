// Section 2: the drain. 200 idle keep-alive connections and 20 in-flight 500 ms
// requests (or streaming responses), then SIGTERM. Each server runs in a child
// process, the load client in another; rows alternate within every round.
import { fork, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import os from 'node:os';
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import { benchDir } from '../lib/paths.mjs';
import { median, fmt, fmtRatio, table } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';
import { drainChart } from '../lib/svg.mjs';
import { firstError } from '../lib/servers.mjs';

const IDLE = 200;
const INFLIGHT = 20;
const SLOW_MS = 500;
const SIGTERM_AFTER_MS = 100; // after the last in-flight request reached the server
const NEW_CONNECTION_AFTER_MS = 100; // after SIGTERM
const CAP_MS = 15_000;
const BUSY = 8;
const HOLD_MS = 1000; // how long the socket holder keeps the socket after the server exited

export const ROWS = [
  { id: 'plain-close', label: 'node:http + server.close()', ours: false },
  { id: 'http-terminator', label: 'node:http + http-terminator 3.2.0', ours: false },
  { id: 'stoppable', label: 'node:http + stoppable 1.1.0', ours: false },
  { id: 'terminus', label: 'node:http + @godaddy/terminus 4.12.1', ours: false },
  { id: 'fastify-close', label: 'Fastify 5.12.8 + fastify.close() (defaults)', ours: false, capNote: 'waits keepAliveTimeout' },
  { id: 'ours-http', label: 'ours: node:http + createLifecycle', ours: true },
  { id: 'ours-express', label: 'ours: Express 5.3.0 + @node-systemd/express', ours: true },
  { id: 'ours-koa', label: 'ours: Koa 3.3.0 + @node-systemd/koa', ours: true },
  { id: 'ours-fastify', label: 'ours: Fastify 5.12.8 + @node-systemd/fastify', ours: true },
  { id: 'ours-http-nolinger', label: 'probe: ours, node:http, `idleLingerMs: 0`', ours: false, probe: true, only: ['stream', 'busy'] },
];

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function deadline(ms, what) {
  let timer;
  const promise = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return { promise, cancel: () => clearTimeout(timer) };
}

async function within(promise, ms, what) {
  const d = deadline(ms, what);
  try {
    return await Promise.race([promise, d.promise]);
  } finally {
    d.cancel();
  }
}

const signalName = (n) => Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;

/** One SIGTERM under load against one server variant. */
async function runOnce(row, scenario, manager) {
  const { route, busy = 0, socket: activated = false } = scenario;
  const serverArgs = [join(benchDir, 'sections', 'drain-server.mjs'), row.id];
  // With `socket`, sections/socket_holder.py stands in for a .socket unit: it owns
  // the listening socket, passes it as fd 3 and keeps it open after the server exits.
  const server = activated
    ? spawn('python3', [join(benchDir, 'sections', 'socket_holder.py'), String(HOLD_MS), process.execPath, ...serverArgs], {
      cwd: benchDir, env: { ...process.env, ...manager.env(), SLOW_MS: String(SLOW_MS) }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    : spawn(process.execPath, serverArgs, {
      cwd: benchDir, env: { ...process.env, ...manager.env(), SLOW_MS: String(SLOW_MS) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
  let serverPid = activated ? undefined : server.pid;
  let stderr = '';
  server.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-2000); });
  const starts = [];
  let port;
  let onStart;
  let exitInfo;
  let onExit;
  const exited = new Promise((resolve) => { onExit = resolve; });
  const markExit = (code, signal) => {
    if (exitInfo) return;
    exitInfo = { code, signal, at: now() };
    onExit();
  };
  const listeningP = new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (line) => {
      const [what, a, b] = line.split(' ');
      if (what === 'holder') serverPid = Number(b);
      if (what === 'listening') { port = Number(a); resolve(); }
      if (what === 'start') { starts.push(Number(b)); onStart?.(); }
      if (what === 'exited') { const code = Number(a); markExit(code >= 0 ? code : null, code < 0 ? signalName(-code) : null); }
    });
    server.on('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}) before listening: ${firstError(stderr)}`)));
  });
  server.on('exit', (code, signal) => markExit(code, signal));
  const killServer = (signal) => { try { process.kill(serverPid, signal); } catch { /* gone */ } };
  let client;
  try {
    await within(listeningP, 20_000, `${row.id} listening`);
    client = fork(join(benchDir, 'sections', 'drain-client.mjs'), [port, IDLE, INFLIGHT, route, busy], { cwd: benchDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages = [];
    let onMessage;
    client.on('message', (m) => { messages.push(m); onMessage?.(); });
    const waitMessage = (type) => new Promise((resolve) => {
      const check = () => { const m = messages.find((x) => x.type === type); if (m) resolve(m); };
      onMessage = check;
      check();
    });
    const loaded = await within(waitMessage('loaded'), 20_000, `${row.id} client load`);
    await within(new Promise((resolve) => { onStart = () => starts.length >= INFLIGHT && resolve(); onStart(); }), 10_000, `${row.id} in-flight requests`);
    await sleep(SIGTERM_AFTER_MS);
    const sigtermAt = now();
    killServer('SIGTERM');
    client.send({ type: 'sigterm', newConnectionAfterMs: NEW_CONNECTION_AFTER_MS });
    let capped = false;
    const cap = setTimeout(() => { capped = true; killServer('SIGKILL'); }, CAP_MS);
    await exited;
    clearTimeout(cap);
    client.send({ type: 'exited', at: exitInfo.at });
    const result = await within(waitMessage('result'), 10_000, `${row.id} client result`);
    const failed = result.inflight.filter((r) => !r.ok);
    const busyFailed = result.busy ? Object.values(result.busy.failed).reduce((a, n) => a + n, 0) : 0;
    return {
      busyRequests: result.busy?.requests ?? 0,
      busyFailed,
      busyFailures: result.busy ? Object.keys(result.busy.failed) : [],
      busyRefused: result.busy?.refused ?? 0,
      exitMs: exitInfo.at - sigtermAt,
      remainderMs: Math.max(...starts) + SLOW_MS - sigtermAt,
      capped,
      exit: exitInfo.signal ?? exitInfo.code,
      failed: failed.length,
      failures: [...new Set(failed.map((r) => r.error ?? `status ${r.status}`))],
      connection: [...new Set(result.inflight.filter((r) => r.ok).map((r) => r.connection))],
      newConnection: result.newConnection,
      idleFailures: loaded.idleFailures,
      pid: serverPid,
    };
  } finally {
    if (exitInfo === undefined) { killServer('SIGKILL'); server.kill('SIGKILL'); }
    if (client && client.exitCode === null) setTimeout(() => client.kill('SIGKILL'), 500).unref();
  }
}

function notifySequence(manager, pid) {
  const mine = manager.messages.filter((m) => m.pid === pid);
  const seq = [];
  for (const m of mine) {
    if (m.fields.READY === '1') seq.push('READY');
    if (m.fields.STOPPING === '1') seq.push(m.fields.STATUS?.startsWith('draining') ? 'STOPPING+draining' : 'STOPPING');
    if (m.fields.STATUS === 'drained') seq.push('drained');
  }
  return seq.join(' → ');
}

export async function run({ log, setup, quick }) {
  const manager = await FakeNotifyManager.start({});
  const scenarios = [
    { id: 'slow', route: '/slow', title: `${INFLIGHT} in-flight ${SLOW_MS} ms requests`, rounds: quick ? 1 : 3 },
    { id: 'stream', route: '/stream', title: `${INFLIGHT} in-flight streaming responses (headers sent before SIGTERM, ${SLOW_MS} ms long)`, rounds: quick ? 1 : 2 },
    { id: 'socket', route: '/slow', socket: true, title: `${INFLIGHT} in-flight ${SLOW_MS} ms requests, socket-activated (the listening socket passed as fd 3 and held open by a stand-in for a .socket unit)`, rounds: quick ? 1 : 2 },
    { id: 'busy', route: '/slow', busy: BUSY, title: `${INFLIGHT} in-flight ${SLOW_MS} ms requests + ${BUSY} busy keep-alive clients sending back to back`, rounds: quick ? 1 : 2 },
  ];
  const out = [];
  // For development: BENCH_DRAIN_SCENARIOS=socket,busy runs only those.
  const wanted = process.env.BENCH_DRAIN_SCENARIOS?.split(',');
  try {
    for (const scenario of scenarios.filter((s) => !wanted || wanted.includes(s.id))) {
      const rows = ROWS.map((row) => ({ ...row, runs: [], skipped: undefined, notify: undefined }));
      for (let round = 0; round < scenario.rounds; round++) {
        const order = rows.map((_, i) => rows[(i + round * 2) % rows.length]);
        for (const row of order) {
          if (row.skipped) continue;
          if (row.only && !row.only.includes(scenario.id)) continue;
          if (row.capNote && row.runs.length > 0) continue; // capped rows: one run tells all
          try {
            const result = await runOnce(row, scenario, manager);
            row.runs.push(result);
            if (row.ours) row.notify = notifySequence(manager, result.pid);
            log(`drain ${scenario.id} ${row.id}: exit ${fmt(result.exitMs)} ms${result.capped ? ' (capped)' : ''}, remainder ${fmt(result.remainderMs)} ms, failed ${result.failed}${scenario.busy ? `, busy ${result.busyFailed}/${result.busyRequests} failed (${result.busyFailures.join(', ')}), ${result.busyRefused} refused` : ''}, new connection ${result.newConnection}`);
          } catch (error) {
            if (row.runs.length === 0) row.skipped = String(error.message ?? error).slice(0, 300);
            log(`drain ${scenario.id} ${row.id}: ${row.runs.length === 0 ? 'skipped' : 'run failed'}: ${error.message ?? error}`);
          }
          manager.messages.length = 0;
        }
      }
      out.push({
        ...scenario,
        rows: rows.filter((row) => !row.only || row.only.includes(scenario.id)).map((row) => summarize(row)),
      });
    }
  } finally {
    manager.close();
  }
  return { section: 'drain', setup, idle: IDLE, inflight: INFLIGHT, slowMs: SLOW_MS, sigtermAfterMs: SIGTERM_AFTER_MS, capMs: CAP_MS, scenarios: out };
}

function summarize(row) {
  const runs = row.runs;
  const uniq = (values) => [...new Set(values.flat())];
  return {
    id: row.id,
    label: row.label,
    ours: row.ours,
    probe: row.probe,
    capNote: row.capNote,
    skipped: row.skipped,
    runs: runs.length,
    exitMs: median(runs.map((r) => r.exitMs)),
    remainderMs: median(runs.map((r) => r.remainderMs)),
    ratio: median(runs.map((r) => r.exitMs / r.remainderMs)),
    worstRatio: Math.max(...runs.map((r) => r.exitMs / r.remainderMs)),
    capped: runs.some((r) => r.capped),
    failed: runs.reduce((a, r) => a + r.failed, 0),
    requests: runs.length * INFLIGHT,
    failures: uniq(runs.map((r) => r.failures)),
    connection: uniq(runs.map((r) => r.connection)),
    newConnection: uniq(runs.map((r) => r.newConnection)),
    exit: uniq(runs.map((r) => String(r.exit))),
    notify: row.notify,
    busyRequests: runs.reduce((a, r) => a + r.busyRequests, 0),
    busyFailed: runs.reduce((a, r) => a + r.busyFailed, 0),
    busyRefused: runs.reduce((a, r) => a + r.busyRefused, 0),
    busyFailures: uniq(runs.map((r) => r.busyFailures)),
  };
}

export function render(result) {
  const lines = ['## 2. Drain on SIGTERM', ''];
  const goals = [];
  const notes = [];
  const goalRows = [];
  let busy = false;
  for (const scenario of result.scenarios) {
    lines.push(`### ${scenario.title}`);
    lines.push('');
    lines.push(setupLine(result.setup, `${result.idle} idle keep-alive connections + ${scenario.title}, SIGTERM ${result.sigtermAfterMs} ms after the last one started, a new connection ${NEW_CONNECTION_AFTER_MS} ms after SIGTERM; ${scenario.rounds} alternating rounds (median); server and client in separate processes; ${scenario.socket ? 'TCP socket on 127.0.0.1 passed as fd 3 (LISTEN_FDS=1, LISTEN_FDNAMES=http) by sections/socket_holder.py, which keeps it open like systemd' : 'plain TCP port on 127.0.0.1'}`));
    lines.push('');
    busy = Boolean(scenario.busy);
    const rows = scenario.rows.map((r) => r.skipped
      ? [r.label, `skipped: ${r.skipped}`, '', '', '', '', '', '', '', ...(busy ? [''] : [])]
      : [
        r.label,
        r.capped ? `>${result.capMs} (${r.capNote ?? 'capped'})` : fmt(r.exitMs),
        fmt(r.remainderMs),
        r.capped ? `>${fmtRatio(result.capMs / r.remainderMs)}` : fmtRatio(r.ratio),
        `${r.failed}/${r.requests}${r.failures.length ? ` (${r.failures.join(', ')})` : ''}`,
        ...(busy ? [`${r.busyFailed}/${r.busyRequests}${r.busyFailures.length ? ` (${r.busyFailures.join(', ')})` : ''}; ${r.busyRefused} refused`] : []),
        r.connection.join(', ') || 'n/a',
        r.newConnection.join('; '),
        r.exit.join(', '),
        r.notify ?? '',
      ]);
    lines.push(table(['server', 'SIGTERM→exit ms', 'in-flight remainder ms', 'exit ÷ remainder', 'failed in-flight', ...(busy ? ['busy clients: failed/sent'] : []), 'Connection (in-flight)', 'new connection during drain', 'exit', 'sd_notify (ours)'], rows));
    lines.push('');
    const probe = scenario.rows.find((r) => r.probe && !r.skipped && r.runs > 0);
    const oursHttp = scenario.rows.find((r) => r.id === 'ours-http' && !r.skipped && r.runs > 0);
    if (scenario.id === 'stream' && probe && oursHttp) {
      lines.push(`Why our rows take longer here: a streaming response's headers (\`Connection: keep-alive\`) went out before SIGTERM, so its socket is ended only after it has stayed idle for the linger (\`idleLingerMs\`, default 250 ms), which protects a request a busy client may already have on the wire. Our node:http drain exited ${fmt(oursHttp.exitMs - oursHttp.remainderMs)} ms after the last stream ended; with \`idleLingerMs: 0\` (probe row) it exited at ${fmtRatio(probe.ratio)} of the remainder.`);
      lines.push('');
    }
    for (const r of scenario.rows.filter((x) => x.ours)) {
      if (r.skipped) {
        notes.push(`${scenario.id}: ${r.label} did not run: ${r.skipped}`);
        continue;
      }
      const g = [];
      g.push({ ...ratioGoal(`${scenario.id}: ${r.label}: SIGTERM→exit ÷ slowest in-flight remainder (median of ${r.runs}; worst ${r.worstRatio.toFixed(2)}×)`, r.ratio, 1.1) });
      g.push({ label: `${scenario.id}: ${r.label}: failed in-flight requests`, value: `${r.failed}/${r.requests}`, goal: '0', met: r.failed === 0 });
      if (busy) g.push({ label: `${scenario.id}: ${r.label}: failed requests of the busy clients (reset or closed without response; refused is the plain port)`, value: `${r.busyFailed}/${r.busyRequests}`, goal: '0', met: r.busyFailed === 0 });
      const reset = r.newConnection.some((o) => o.startsWith('accepted and reset'));
      g.push({ label: `${scenario.id}: ${r.label}: new connection during the drain`, value: r.newConnection.join('; '), goal: 'never accepted and reset', met: !reset });
      for (const x of g) x.hidden = true; // shown in the goal table below instead of one line each
      goals.push(...g);
      const row = [scenario.id, r.label.replace(/^ours: /, ''), ...g.map((x) => `${x.met ? '' : '**missed**: '}${x.value}`)];
      goalRows.push(busy ? row : [...row.slice(0, 4), 'n/a', row[4]]);
    }
  }
  lines.push('Goals for our rows (exit ÷ remainder ≤ 1.1×, 0 failed, a new connection never accepted and reset):');
  lines.push('');
  lines.push(table(['scenario', 'adapter', 'exit ÷ remainder', 'failed in-flight', 'failed busy-client requests', 'new connection during the drain'],
    goalRows));
  lines.push('');
  lines.push('"in-flight remainder" is how long the slowest in-flight request still had to run at SIGTERM; a perfect drain exits right after it. "refused" is what a plain port gives once the listener is closed; under a `.socket` unit or the fd store such a connection waits in systemd\'s queue for the next process instead. A row is capped at 15 s (then SIGKILL). The probe row runs our node:http drain with `idleLingerMs: 0` (sockets closed as soon as they are idle): it shows what the default 250 ms linger costs in the streaming case and what it buys in the busy one. In the busy scenario a failure is a request that was sent and then reset or closed without a response; "refused" counts reconnection attempts after the listener closed (on a plain port there is nobody to take them until the next process starts).');
  const byId = (id) => result.scenarios.find((s) => s.id === id);
  const slow = byId('slow');
  return {
    markdown: lines.join('\n'),
    goals,
    notes,
    svg: slow ? { file: 'drain.svg', text: drainChart({ slow, busy: byId('busy'), socket: byId('socket') }, result) } : undefined,
  };
}

function ratioGoal(label, value, target) {
  const met = Number.isFinite(value) && value <= target;
  return { label, value: Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a', goal: `≤ ${target}×`, met };
}

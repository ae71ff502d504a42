// Section 5: `systemctl restart` under load, under a real systemd (the harness's
// systemd-nspawn container): failed requests and restart time, with a socket
// unit, on a plain port, and with the fd store, per framework (our adapter).
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, repoDir } from '../lib/paths.mjs';
import { median, fmt, table } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';
import { FRAMEWORKS } from '../lib/frameworks.mjs';

const CONNECTIONS = 8;
const SETUPS = [
  { id: 'socket', label: '.socket unit', systemd: '252' },
  { id: 'plain', label: 'plain port', systemd: '252' },
  { id: 'fdstore', label: 'fd store (FileDescriptorStoreMax=1)', systemd: '257' },
];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function unitFiles(fw, setup, port) {
  const name = `bench-${fw.id}-${setup.id}`;
  const service = `[Unit]
Description=node-systemd bench: ${fw.label}, ${setup.label}
${setup.id === 'socket' ? `Requires=${name}.socket\nAfter=${name}.socket\n` : ''}
[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/bin/node ${join(benchDir, 'sections', 'hello-app.mjs')} ${fw.id} ours
WorkingDirectory=${benchDir}
Environment=PORT=${port} NODE_ENV=production${setup.id === 'fdstore' ? ' BENCH_FDSTORE=1' : ''}
${setup.id === 'fdstore' ? 'FileDescriptorStoreMax=1\n' : ''}WatchdogSec=10s
TimeoutStopSec=45s
`;
  const socket = setup.id === 'socket' ? `[Socket]\nListenStream=127.0.0.1:${port}\nFileDescriptorName=http\nService=${name}.service\n` : undefined;
  return { name, service, socket };
}

async function measure(c, fw, setup, { restarts, port, log }) {
  const unit = unitFiles(fw, setup, port);
  await c.writeFile(`/etc/systemd/system/${unit.name}.service`, unit.service);
  if (unit.socket) await c.writeFile(`/etc/systemd/system/${unit.name}.socket`, unit.socket);
  await c.exec(['systemctl', 'daemon-reload'], { check: true, timeoutMs: 60_000 });
  if (unit.socket) await c.exec(['systemctl', 'start', `${unit.name}.socket`], { check: true });
  const started = await c.exec(['systemctl', 'start', `${unit.name}.service`], { timeoutMs: 30_000 });
  if (started.code !== 0) {
    const journal = await c.journal(`${unit.name}.service`).catch(() => '');
    throw new Error(`systemctl start failed: ${started.stderr.trim()} ${String(journal).trim().split('\n').slice(-3).join(' / ')}`);
  }
  const load = fork(join(benchDir, 'sections', 'restart-load.mjs'), [port, CONNECTIONS, 120_000], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise((resolve) => load.on('message', (m) => m.type === 'result' && resolve(m.stats)));
  await new Promise((resolve) => load.once('message', resolve));
  const times = [];
  const states = [];
  try {
    await sleep(800);
    for (let i = 0; i < restarts; i++) {
      const r = await c.exec(['systemctl', 'restart', `${unit.name}.service`], { timeoutMs: 60_000 });
      times.push(r.ms);
      const after = await c.show(`${unit.name}.service`, ['ActiveState', 'SubState', 'NRestarts', 'Result']);
      states.push(`${r.code === 0 ? 'ok' : `exit ${r.code}`} ${after.ActiveState}/${after.SubState}`);
      await sleep(600);
    }
    await sleep(300);
  } finally {
    load.send({ type: 'stop' });
  }
  const stats = await result;
  const final = await c.show(`${unit.name}.service`, ['StatusText']);
  await c.exec(['systemctl', 'stop', `${unit.name}.service`, ...(unit.socket ? [`${unit.name}.socket`] : [])], { timeoutMs: 60_000 });
  log(`restart ${fw.id} ${setup.id}: ${stats.failed}/${stats.requests} failed, restart ${fmt(median(times))} ms`);
  return { requests: stats.requests, failed: stats.failed, kinds: stats.kinds, restartMs: median(times), restartTimes: times, states: [...new Set(states)], status: final.StatusText };
}

export async function run({ log, setup, quick }) {
  const harness = join(repoDir, 'test', 'harness', 'container.mjs');
  const base = { section: 'restart', setup, connections: CONNECTIONS };
  if (!existsSync(harness)) return { ...base, skipped: 'the real-systemd harness (test/harness/container.mjs) is not there' };
  const { canBootContainer, bootContainer, freePort } = await import(harness);
  const probe = await canBootContainer();
  if (!probe.ok) {
    log(`restart: skipped: ${probe.reason}`);
    return { ...base, skipped: `cannot boot a systemd container: ${probe.reason}` };
  }
  const restarts = quick ? 2 : 4;
  const rows = [];
  const versions = {};
  for (const systemd of [...new Set(SETUPS.map((s) => s.systemd))]) {
    let c;
    try {
      c = await bootContainer({ name: `nsd-bench-${systemd}`, systemd, bind: [repoDir] });
      versions[systemd] = c.systemdVersion;
      log(`restart: systemd ${c.systemdVersion} container up in ${c.bootMs} ms`);
    } catch (error) {
      const reason = String(error.message ?? error).split('\n')[0];
      log(`restart: systemd ${systemd} did not boot: ${reason}`);
      for (const s of SETUPS.filter((x) => x.systemd === systemd)) for (const fw of FRAMEWORKS) rows.push({ fw: fw.id, label: fw.label, setup: s.id, setupLabel: s.label, systemd, skipped: reason });
      continue;
    }
    try {
      for (const fw of FRAMEWORKS) {
        for (const s of SETUPS.filter((x) => x.systemd === systemd)) {
          const row = { fw: fw.id, label: fw.label, setup: s.id, setupLabel: s.label, systemd: c.systemdVersion };
          try {
            Object.assign(row, await measure(c, fw, s, { restarts, port: await freePort(), log }));
          } catch (error) {
            row.skipped = String(error.message ?? error).slice(0, 300);
            log(`restart ${fw.id} ${s.id}: failed: ${row.skipped}`);
          }
          rows.push(row);
        }
      }
    } finally {
      await c.stop();
    }
  }
  return { ...base, restarts, versions, rows };
}

export function render(result) {
  const lines = ['## 5. Restart under a real systemd', ''];
  if (result.skipped) {
    lines.push(setupLine(result.setup));
    lines.push('');
    lines.push(`Skipped: ${result.skipped}.`);
    return { markdown: lines.join('\n'), goals: [], notes: [`restart section skipped: ${result.skipped}`] };
  }
  lines.push(setupLine(result.setup, `systemd ${Object.values(result.versions).join(' and ')} as PID 1 of a systemd-nspawn container (test/harness), the app on the host's loopback; ${result.connections} keep-alive clients on the host sending GET / back to back; ${result.restarts} × \`systemctl restart\` 600 ms apart, per row; our adapter in every row (bench/sections/hello-app.mjs)`));
  lines.push('');
  lines.push(table(['framework', 'listening socket', 'systemd', 'requests', 'failed', 'failures', 'restart ms (median)', 'restarts'],
    result.rows.map((r) => r.skipped
      ? [r.label, r.setupLabel, r.systemd, `skipped: ${r.skipped}`, '', '', '', '']
      : [r.label, r.setupLabel, r.systemd, r.requests, r.failed, Object.entries(r.kinds).map(([k, n]) => `${k} ${n}`).join(', ') || '', fmt(r.restartMs), r.states.join('; ')])));
  lines.push('');
  lines.push('A plain port is closed between the old process and the new one, so connections are refused while the new process boots: draining alone cannot make a restart zero-downtime. A `.socket` unit or the fd store keeps the listening socket open in systemd.');
  const goals = [];
  for (const r of result.rows.filter((x) => !x.skipped && x.setup !== 'plain')) {
    goals.push({ label: `restart (the zero-downtime claim): ${r.label}, ${r.setupLabel}: failed requests over ${result.restarts} restarts`, value: `${r.failed}/${r.requests}`, goal: '0', met: r.failed === 0 });
  }
  return { markdown: lines.join('\n'), goals, notes: [] };
}

// Section 4: start-up and footprint. Process start to listening (and to READY=1
// with the adapter), alternating; and what importing each package costs.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FakeNotifyManager } from '@node-systemd/notify/testing';
import { benchDir } from '../lib/paths.mjs';
import { startServer, now, firstError } from '../lib/servers.mjs';
import { median, fmt, fmtRatio, table } from '../lib/stats.mjs';
import { setupLine } from '../lib/setup.mjs';
import { FRAMEWORKS } from '../lib/frameworks.mjs';

const IMPORTS = [
  { name: '@node-systemd/notify', label: '@node-systemd/notify (core)', ours: true },
  { name: '@node-systemd/express', first: 'express', label: '@node-systemd/express (after express)', ours: true },
  { name: '@node-systemd/koa', first: 'koa', label: '@node-systemd/koa (after koa)', ours: true },
  { name: '@node-systemd/fastify', first: 'fastify', label: '@node-systemd/fastify (after fastify)', ours: true },
  { name: 'http-terminator', label: 'http-terminator 3.2.0' },
  { name: 'stoppable', label: 'stoppable 1.1.0' },
  { name: '@godaddy/terminus', label: '@godaddy/terminus 4.12.1' },
  { name: 'sd-notify', label: 'sd-notify 2.8.0' },
  { name: 'unix-dgram', label: 'unix-dgram 2.0.7' },
  { name: 'express', label: 'express 5.3.0 (for scale)' },
  { name: 'koa', label: 'koa 3.3.0 (for scale)' },
  { name: 'fastify', label: 'fastify 5.12.8 (for scale)' },
];

function importCost(spec) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(benchDir, 'sections', 'import-cost.mjs'), spec.name, ...(spec.first ? [spec.first] : [])], {
    cwd: benchDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

function waitReady(manager, pid, timeoutMs) {
  return new Promise((resolve, reject) => {
    const found = manager.messages.find((m) => m.pid === pid && m.fields.READY === '1');
    if (found) return resolve(now());
    const timer = setTimeout(() => { manager.off('message', onMessage); reject(new Error('no READY=1')); }, timeoutMs);
    const onMessage = (m) => {
      if (m.pid !== pid || m.fields.READY !== '1') return;
      clearTimeout(timer);
      manager.off('message', onMessage);
      resolve(now());
    };
    manager.on('message', onMessage);
  });
}

export async function run({ log, setup, quick }) {
  const rounds = quick ? 3 : 8;
  const manager = await FakeNotifyManager.start({ pollIntervalMs: 1 });
  const env = { ...manager.env(), PORT: '0' };
  const start = [];
  try {
    for (const fw of FRAMEWORKS) {
      const runs = { plain: [], ours: [], ready: [] };
      let skipped;
      for (let round = 0; round < rounds && !skipped; round++) {
        const order = round % 2 === 0 ? ['plain', 'ours'] : ['ours', 'plain'];
        for (const which of order) {
          try {
            const server = await startServer('hello-app.mjs', [fw.id, which], { env });
            runs[which].push(server.listeningAt - server.spawnedAt);
            if (which === 'ours') runs.ready.push((await waitReady(manager, server.child.pid, 5000)) - server.spawnedAt);
            await server.stop();
          } catch (error) {
            skipped = String(error.message ?? error).slice(0, 300);
            break;
          }
          manager.messages.length = 0;
        }
      }
      if (skipped) log(`startup ${fw.id}: skipped: ${skipped}`);
      else log(`startup ${fw.id}: listening ${fmt(median(runs.plain))} vs ${fmt(median(runs.ours))} ms, READY ${fmt(median(runs.ready))} ms`);
      start.push({
        ...fw,
        skipped,
        plainMs: median(runs.plain),
        oursMs: median(runs.ours),
        readyMs: median(runs.ready),
        ratio: median(runs.plain) > 0 ? median(runs.ours) / median(runs.plain) : NaN,
      });
    }
  } finally {
    manager.close();
  }
  const imports = [];
  const importRounds = quick ? 2 : 5;
  for (const spec of IMPORTS) {
    const samples = [];
    let skipped;
    for (let i = 0; i < importRounds && !skipped; i++) {
      try {
        samples.push(importCost(spec));
      } catch (error) {
        skipped = firstError(String(error.stderr ?? error.message));
      }
    }
    imports.push({
      ...spec,
      skipped,
      ms: median(samples.map((s) => s.ms)),
      rssKiB: median(samples.map((s) => s.rssKiB)),
      heapKiB: median(samples.map((s) => s.heapKiB)),
    });
  }
  log('startup: import costs measured');
  return { section: 'startup', setup, rounds, importRounds, start, imports };
}

export function render(result) {
  const lines = ['## 4. Start-up and footprint', ''];
  lines.push(setupLine(result.setup, `hello app per framework, ${result.rounds} alternating starts each (median), spawn to "listening" as the child timed it, spawn to READY=1 as the fake manager (polling every 1 ms) received it`));
  lines.push('');
  lines.push(table(['framework', 'spawn → listening, without', 'spawn → listening, with adapter', 'ratio', 'spawn → READY=1 (with)'],
    result.start.map((r) => r.skipped
      ? [r.label, `skipped: ${r.skipped}`, '', '', '']
      : [r.label, `${fmt(r.plainMs)} ms`, `${fmt(r.oursMs)} ms`, fmtRatio(r.ratio), `${fmt(r.readyMs)} ms`])));
  lines.push('');
  lines.push(setupLine(result.setup, `each import in a fresh process (${result.importRounds} times, median), after a GC on both sides; adapters measured after their framework was imported, so the numbers are what the adapter adds`));
  lines.push('');
  lines.push(table(['package', 'import ms', 'RSS added KiB', 'heap added KiB'],
    result.imports.map((r) => r.skipped ? [r.label, `skipped: ${r.skipped}`, '', ''] : [r.label, fmt(r.ms), fmt(r.rssKiB, 0), fmt(r.heapKiB, 0)])));
  return { markdown: lines.join('\n'), goals: [], notes: [] };
}

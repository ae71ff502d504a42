#!/usr/bin/env node
// `pnpm demo`: hello-fastify as a socket-activated Type=notify service under a real
// systemd, restarted under load, with a timeline of what systemd saw.
//
// As root on Linux it boots the installed systemd as PID 1 of a systemd-nspawn
// container (test/harness), installs examples/hello-fastify with its shipped,
// hardened hello.service + hello.socket (the socket on a free 127.0.0.1 port),
// sends the first request (which starts the service), then keeps 10 keep-alive
// clients busy while `systemctl restart hello.service` runs 3 times, and prints the
// journal, the STATUS= texts and the load figures on one clock. Then it tears down.
//
// Without root or systemd-nspawn it says so and falls back to
// systemd-socket-activate plus the testing kit's FakeNotifyManager (one start and
// one stop; restarts without downtime need the real systemd).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESTARTS = Number(process.env.DEMO_RESTARTS ?? 3);
const CONNECTIONS = 10;
const LOAD_MS = Number(process.env.DEMO_SECONDS ?? 10) * 1000;

const { bootContainer, canBootContainer } = await import('./harness/container.mjs');
const { exampleApp, get, installExample, pickPort, runLoad, sleep } = await import('./e2e/lib.mjs');

const now = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, the journal's clock too
let t0 = now();
const events = [];
const at = (ns) => `+${String(Math.round(Number(ns - t0) / 1e6)).padStart(6)} ms`;
const mark = (who, text, ns = now()) => events.push({ ns, who, text });
const say = (text) => console.log(text);

function appEntry(app) {
  const entry = path.join(app.appDir, app.standin ? 'app.js' : 'dist/app.js');
  if (!fs.existsSync(entry)) {
    say(`demo: ${path.relative(root, entry)} is missing; run \`pnpm demo\` (it builds first) or \`pnpm build\`.`);
    process.exit(1);
  }
  return entry;
}

async function withSystemd() {
  const app = exampleApp('fastify');
  say(`demo: booting the installed systemd as PID 1 of a container (systemd-nspawn)...`);
  const c = await bootContainer({ name: `nsd-demo-${process.pid}`, systemd: '252', bind: [root] });
  try {
    say(`demo: systemd ${c.systemdVersion} is up (${c.bootMs} ms)`);
    const port = await pickPort();
    // The shipped units, plus a drop-in that moves the socket from port 80 to a free port.
    await installExample(c, app, { port, watchdogSec: 10 });
    await c.exec(['rm', '-f', '/etc/systemd/system/hello.service.d/e2e.conf'], { check: true });
    if (app.standin) {
      await c.writeFile('/etc/systemd/system/hello.service.d/standin.conf', `[Service]\nExecStart=\nExecStart=/usr/bin/node ${app.optDir}/app.js\n`);
    }
    await c.exec(['systemctl', 'daemon-reload'], { check: true });
    const score = spawnSync('systemd-analyze', ['security', '--offline=yes', path.join(app.exampleDir, 'hello.service')], { encoding: 'utf8' });
    const exposure = /Overall exposure level for \S+: (.*)$/m.exec(score.stdout ?? '')?.[1];
    say(`demo: installed ${path.relative(root, app.exampleDir)}/hello.service${exposure ? ` (systemd-analyze security: ${exposure})` : ''} and hello.socket on 127.0.0.1:${port}\n`);

    t0 = now();
    await c.systemctl('start', 'hello.socket', { check: true });
    mark('demo', `systemctl start hello.socket (hello.service is not running yet)`);

    // Watch StatusText and the state as systemd reports them, on the same clock.
    const watch = { done: false };
    const watcher = (async () => {
      let last = '';
      while (!watch.done) {
        const p = await c.show('hello.service', ['ActiveState', 'SubState', 'StatusText', 'MainPID']).catch(() => null);
        if (p) {
          const line = `${p.ActiveState} (${p.SubState})${p.StatusText ? `, STATUS="${p.StatusText}"` : ''}${p.MainPID !== '0' ? `, MainPID ${p.MainPID}` : ''}`;
          if (line !== last) mark('show', line); // stamped when the answer came back
          last = line;
        }
        await sleep(15);
      }
    })();

    mark('demo', 'first request from the host');
    const first = await get(port, '/');
    mark('demo', `first response: ${first.status} ${JSON.stringify(first.body.trim())}`);

    const restarts = [];
    const [load] = await Promise.all([
      runLoad({ port, connections: CONNECTIONS, durationMs: LOAD_MS }),
      (async () => {
        await sleep(1500);
        for (let i = 1; i <= RESTARTS; i++) {
          mark('demo', `systemctl restart hello.service (#${i})`);
          const r = await c.systemctl('restart', 'hello.service', { timeoutMs: 60_000 });
          restarts.push(r);
          mark('demo', `systemctl restart #${i} returned ${r.code} after ${r.ms} ms`);
          await sleep(Math.max(0, (LOAD_MS - 3000) / RESTARTS - r.ms));
        }
      })(),
    ]);
    mark('demo', `load ended: ${load.requests} requests`);
    watch.done = true;
    await watcher;

    const journal = await c.exec(['sh', '-c', 'journalctl --sync; journalctl -u hello.service -u hello.socket -o json --no-pager'], { check: true });
    for (const line of journal.stdout.split('\n').filter(Boolean)) {
      const e = JSON.parse(line);
      const ns = BigInt(e.__MONOTONIC_TIMESTAMP) * 1000n;
      if (ns < t0) continue;
      let msg = Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE).toString() : String(e.MESSAGE ?? '');
      try {
        const j = JSON.parse(msg); // pino and friends log JSON lines
        if (j && typeof j === 'object' && j.msg) msg = j.msg;
      } catch {}
      if (/loopback network device/.test(msg)) continue;
      const fromApp = e._SYSTEMD_UNIT === 'hello.service' && e._PID !== '1';
      if (!fromApp && /^Started /.test(msg)) msg += '   <- READY=1 received';
      mark(fromApp ? `app ${e._PID}` : 'systemd', msg, ns);
    }

    say('timeline: ms since `systemctl start hello.socket`, one clock (CLOCK_MONOTONIC) for the journal and the host;');
    say('"show" = `systemctl show hello.service` polled every ~30 ms (a short draining state may slip between two polls)\n');
    events.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    for (const e of events) say(`${at(e.ns)}  ${e.who.padEnd(9)} ${e.text}`);

    const readyLines = events.filter((e) => e.who === 'systemd' && /^Started hello\.service/.test(e.text));
    const failures = load.errors + load.non2xx;
    say(`
summary
  READY (systemd "Started") ${readyLines.length} times: first at ${readyLines[0] ? at(readyLines[0].ns).replace(/\s+/g, ' ').trim() : 'never'} after \`systemctl start hello.socket\` (the first request started the service)
  restarts: ${restarts.length}, each \`systemctl restart\` took ${restarts.map((r) => r.ms).join(', ')} ms (exit ${[...new Set(restarts.map((r) => r.code))].join(',')})
  requests served: ${load.ok} of ${load.requests} by ${CONNECTIONS} keep-alive clients in ${(load.elapsedMs / 1000).toFixed(1)} s
  failures: ${failures}${failures ? ` (${JSON.stringify({ ...load.errorCodes, ...Object.fromEntries(Object.entries(load.statusCodes).map(([k, v]) => [`HTTP ${k}`, v])) })})` : ''}
`);
    return failures === 0 && restarts.every((r) => r.code === 0) ? 0 : 1;
  } finally {
    await c.stop();
    say('demo: container stopped, nothing left behind');
  }
}

async function withoutSystemd(reason) {
  say(`demo: cannot boot a real systemd here (${reason}).`);
  say('demo: FALLBACK: systemd-socket-activate passes the listening socket, and the testing kit\'s');
  say('demo: FakeNotifyManager stands in for systemd (it records what the app sends; nothing is supervised).');
  say('demo: one start and one stop only: restarts without downtime need the real systemd (run as root).\n');
  const which = spawnSync('sh', ['-c', 'command -v systemd-socket-activate'], { encoding: 'utf8' });
  if (which.status !== 0) {
    say('demo: systemd-socket-activate is not installed either (it comes with systemd); nothing to show.');
    return 1;
  }
  const app = exampleApp('fastify');
  const entry = appEntry(app);
  const { FakeNotifyManager } = await import('@node-systemd/notify/testing').catch(() => import(path.join(root, 'packages/notify/dist/testing/index.js')));
  const manager = await FakeNotifyManager.start();
  const port = await pickPort();
  t0 = now();
  manager.on('message', (m) => mark('notify', m.assignments.map(([k, v]) => `${k}=${v}`).join(' '), m.receivedAt));
  const child = spawn('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, '--fdname=http', '-E', `NOTIFY_SOCKET=${manager.socket}`, process.execPath, entry], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = (chunk) => chunk.toString().split('\n').filter(Boolean).forEach((l) => mark('app', l));
  child.stdout.on('data', out);
  child.stderr.on('data', out);
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  try {
    await sleep(300);
    mark('demo', `systemd-socket-activate listens on 127.0.0.1:${port}; first request`);
    const first = await get(port, '/');
    mark('demo', `first response: ${first.status} ${JSON.stringify(first.body.trim())}`);
    const load = runLoad({ port, connections: CONNECTIONS, durationMs: 3000 });
    await sleep(1500);
    mark('demo', 'SIGTERM (what systemctl stop sends)');
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    mark('demo', `the app exited with ${signal ?? code}`);
    const stats = await load;
    events.sort((a, b) => (a.ns < b.ns ? -1 : 1));
    say('timeline\n');
    for (const e of events) say(`${at(e.ns)}  ${e.who.padEnd(7)} ${e.text}`);
    say(`\nsummary (fallback, no systemd)\n  requests: ${stats.ok} ok of ${stats.requests}; after the stop the port is closed, so the rest failed: ${stats.errors} (${JSON.stringify(stats.errorCodes)})`);
    say('  READY, STOPPING + STATUS=draining and STATUS=drained above are what systemd would have received.');
    return code === 0 ? 0 : 1;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    manager.close();
  }
}

// `pnpm demo` runs `pnpm build` first; build here too when the example is missing
// (a bare `node test/demo.mjs`, or a root build script that built nothing).
if (!fs.existsSync(path.join(root, 'examples', 'hello-fastify', 'dist', 'app.js')) && process.env.E2E_STANDIN !== '1') {
  say('demo: examples/hello-fastify is not built; building the packages and the example...');
  for (const filter of ['./packages/**', './examples/hello-fastify']) {
    const b = spawnSync('pnpm', ['-r', '--filter', filter, 'run', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
}

const probe = await canBootContainer();
const status = probe.ok ? await withSystemd() : await withoutSystemd(probe.reason);
process.exit(status);

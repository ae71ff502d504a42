// Shared pieces of the end-to-end suite: installing an example as its shipped,
// hardened units inside a harness container, HTTP helpers, a bounded keep-alive
// load generator, and polling of `systemctl show`.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootContainer, canBootContainer, ensureTrixieRoot } from '../harness/container.mjs';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');

/**
 * The example under test. Its app is "installed" the way the README says, under
 * /opt/hello-NAME, as a symlink to the built example in the bound repository (the
 * pnpm node_modules links are relative and resolve from the real path; see mountRepo). The units
 * are the shipped files, byte for byte; tests only add drop-ins (port, test hooks,
 * shorter watchdog). E2E_APP_DIR_<NAME>=/path overrides the app directory.
 */
export function exampleApp(name) {
  const exampleDir = path.join(repo, 'examples', `hello-${name}`);
  const built = fs.existsSync(path.join(exampleDir, 'dist', 'app.js'));
  const override = process.env[`E2E_APP_DIR_${name.toUpperCase()}`];
  const standin = path.join(here, 'fixtures', 'standin');
  // E2E_STANDIN=1 runs the stand-in in place of an example that is not built yet
  // (development only; the result rows say "stand-in"). Otherwise a missing build fails.
  const useStandin = !override && !built && process.env.E2E_STANDIN === '1';
  if (!override && !built && !useStandin) {
    throw new Error(`examples/hello-${name}/dist/app.js is missing: run \`pnpm build\` first (or E2E_STANDIN=1 for the stand-in app)`);
  }
  const appDir = override || (useStandin ? standin : exampleDir);
  return {
    name,
    exampleDir,
    appDir,
    standin: appDir === standin,
    optDir: `/opt/hello-${name}`,
    service: fs.readFileSync(path.join(exampleDir, 'hello.service'), 'utf8'),
    socket: fs.readFileSync(path.join(exampleDir, 'hello.socket'), 'utf8'),
  };
}

/**
 * Where the repository is seen inside the container by services too. The harness
 * binds it at its own path, which a service with PrivateTmp=/ProtectHome= cannot see
 * when the clone lives under /tmp, /var/tmp, /home or /root (a CI checkout might).
 * So it is bound again, read-only, at /srv/nsd-repo, which no sandboxing option hides.
 */
/**
 * Boots the container of one suite (after fetching the systemd 257 root when
 * asked for), the repository bound in: `{ c }`, or `{ skip }` saying why this
 * machine cannot boot one.
 */
export async function bootSuiteContainer(suite, systemd) {
  const probe = await canBootContainer();
  if (!probe.ok) return { skip: `cannot boot a container: ${probe.reason}` };
  if (systemd === '257') await ensureTrixieRoot({ log: (line) => console.log(`[trixie] ${line}`) });
  const c = await bootContainer({ name: `nsd-e2e-${suite}-${systemd}-${process.pid}`, systemd, bind: [repo], bootTimeoutMs: 90_000 });
  console.log(`# container: systemd ${c.systemdVersion}, booted in ${c.bootMs} ms (${c.state})`);
  return { c };
}

export const REPO_IN_CONTAINER = '/srv/nsd-repo';

export async function mountRepo(c) {
  const script = `mkdir -p ${REPO_IN_CONTAINER} && mountpoint -q ${REPO_IN_CONTAINER} || { mount --bind "$1" ${REPO_IN_CONTAINER} && mount -o remount,bind,ro ${REPO_IN_CONTAINER}; }`;
  await c.exec(['sh', '-c', script, 'sh', repo], { check: true });
  return REPO_IN_CONTAINER;
}

/** A host path inside the repository, as services in the container see it. */
export const inContainer = (hostPath) => {
  const rel = path.relative(repo, hostPath);
  return rel.startsWith('..') || path.isAbsolute(rel) ? hostPath : path.posix.join(REPO_IN_CONTAINER, rel);
};

/**
 * Preloads the test hooks (fixtures/hello-hooks.cjs: /stall, /slow, /unhealthy, and
 * HELLO_FDSTORE / HELLO_RELOAD_MS) into the shipped app, which has none of its own.
 */
export const TEST_HOOKS_ENV = `NODE_OPTIONS=--require=${inContainer(path.join(here, 'fixtures', 'hello-hooks.cjs'))}`;

/** Writes /etc/systemd/system/NAME.d/FILE inside the container (no reload). */
export function dropIn(c, unit, file, text) {
  return c.writeFile(`/etc/systemd/system/${unit}.d/${file}`, text);
}

/**
 * Installs the example's hello.service + hello.socket (socket on 127.0.0.1:port)
 * and hello-plain.service (the same app and hardening, but listening on a plain
 * port itself: no socket unit, so it needs the network).
 */
export async function installExample(c, app, { port, plainPort, watchdogSec = 3, extraService = '' }) {
  await mountRepo(c);
  await c.exec(['ln', '-sfn', inContainer(app.appDir), app.optDir], { check: true });
  await c.writeFile('/etc/systemd/system/hello.service', app.service);
  await c.writeFile('/etc/systemd/system/hello.socket', app.socket);
  await dropIn(c, 'hello.socket', 'e2e.conf', `[Socket]\nListenStream=\nListenStream=127.0.0.1:${port}\n`);
  // The stand-in is a single file (dist/ is git-ignored); the examples run dist/app.js.
  const execStart = app.standin ? `ExecStart=\nExecStart=/usr/bin/node ${app.optDir}/app.js\n` : '';
  const testHooks = `[Service]\nEnvironment=HELLO_TEST_HOOKS=1 ${TEST_HOOKS_ENV}\nWatchdogSec=${watchdogSec}s\n${execStart}${extraService}`;
  await dropIn(c, 'hello.service', 'e2e.conf', testHooks);
  if (plainPort) {
    const plain = app.service.replace(/^(Requires|After)=hello\.socket\n/gm, '');
    await c.writeFile('/etc/systemd/system/hello-plain.service', plain);
    await dropIn(c, 'hello-plain.service', 'e2e.conf', `${testHooks}
# A plain port: the app binds 127.0.0.1:${plainPort} itself, so it needs the network.
Environment=PORT=${plainPort} HOST=127.0.0.1
PrivateNetwork=no
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
`);
  }
  await c.exec(['systemctl', 'daemon-reload'], { check: true, timeoutMs: 60_000 });
}

/** Stops units and clears their failed state and restart counters between tests. */
export async function resetUnits(c, ...units) {
  await c.exec(['systemctl', 'stop', ...units], { timeoutMs: 60_000 });
  await c.exec(['systemctl', 'reset-failed', ...units], { timeoutMs: 10_000 });
}

/** One GET, resolving { status, body, headers } (or rejecting with the socket error). */
export function get(port, pathname = '/', { agent = false, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A free 127.0.0.1 port below the kernel's ephemeral range (32768-60999 here).
 * A port from that range (port 0) can be taken between a socket unit's stop and
 * its next start by any outgoing connection on the machine (the load generators
 * of concurrent tests make thousands); then the socket unit fails with EADDRINUSE.
 */
export function portFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export async function pickPort() {
  const [low] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const top = Math.min(low || 32768, 32768);
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * (top - 20000));
    if (await portFree(port)) return port;
  }
  throw new Error('no free port found in 20000..32767');
}

/**
 * Polls `systemctl show` every intervalMs until `until(props)` is true or timeoutMs
 * passes; returns every distinct value seen for each property, in order.
 */
export async function watchProps(c, unit, props, { until = () => false, timeoutMs = 30_000, intervalMs = 40, stop } = {}) {
  const seen = Object.fromEntries(props.map((p) => [p, []]));
  const deadline = Date.now() + timeoutMs;
  let last = {};
  while (Date.now() < deadline && !stop?.done) {
    last = await c.show(unit, props);
    for (const p of props) if (seen[p].at(-1) !== last[p]) seen[p].push(last[p]);
    if (until(last)) break;
    await sleep(intervalMs);
  }
  return { seen, last };
}

/**
 * A bounded keep-alive load generator on the host: `connections` clients, each
 * with its own keep-alive socket (agent maxSockets 1), sending GET / back to back
 * for durationMs. Counts 2xx, non-2xx and errors (by code). Requests that time out
 * count as errors. `onResponse(res, sentAt)` sees every answer; `stopWhen()` ends the load early.
 */
export async function runLoad({ port, connections = 10, durationMs = 15_000, path: pathname = '/', requestTimeoutMs = 10_000, onResponse, stopWhen }) {
  const stats = { requests: 0, ok: 0, non2xx: 0, errors: 0, errorCodes: {}, statusCodes: {}, connections, durationMs, firstError: null };
  const deadline = Date.now() + durationMs;
  const agents = [];
  const started = Date.now();
  async function client() {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (Date.now() < deadline && !stopWhen?.()) {
      stats.requests++;
      const sentAt = Date.now();
      try {
        const res = await get(port, pathname, { agent, timeoutMs: requestTimeoutMs });
        onResponse?.(res, sentAt);
        if (res.status >= 200 && res.status < 300) stats.ok++;
        else {
          stats.non2xx++;
          stats.statusCodes[res.status] = (stats.statusCodes[res.status] ?? 0) + 1;
        }
      } catch (err) {
        stats.errors++;
        const code = err.code ?? err.message;
        stats.errorCodes[code] = (stats.errorCodes[code] ?? 0) + 1;
        stats.firstError ??= { at: Date.now() - started, code };
        await sleep(5); // a refused port fails at once: do not spin
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, client));
  for (const a of agents) a.destroy();
  stats.elapsedMs = Date.now() - started;
  return stats;
}

/** Runs `systemctl restart unit` `times` times, spread over the load, and records each. */
export async function restartsDuring(c, unit, { times = 5, firstAfterMs = 1500, everyMs = 2500 }) {
  const restarts = [];
  await sleep(firstAfterMs);
  for (let i = 0; i < times; i++) {
    const before = await c.show(unit, ['MainPID']);
    const r = await c.exec(['systemctl', 'restart', unit], { timeoutMs: 60_000 });
    const after = await c.show(unit, ['MainPID', 'ActiveState', 'SubState', 'StatusText']);
    restarts.push({ code: r.code, ms: r.ms, oldPid: before.MainPID, newPid: after.MainPID, state: `${after.ActiveState}/${after.SubState}`, status: after.StatusText, stderr: r.stderr.trim() });
    if (i < times - 1) await sleep(Math.max(0, everyMs - r.ms));
  }
  return restarts;
}

/** Results for RESULTS.md: one JSON per (file, systemd) in test/e2e/results/, then RESULTS.md re-rendered. */
export function recordResults(key, data) {
  const dir = path.join(here, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${key}.json`), `${JSON.stringify(data, null, 2)}\n`);
  renderResults();
}

export function renderResults() {
  const dir = path.join(here, 'results');
  const rows = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
    : [];
  const restart = rows.filter((r) => r.kind === 'restart');
  const fdstore = rows.filter((r) => r.kind === 'fdstore');
  const fmt = (s) => `${s.requests} requests, ${s.errors} errors, ${s.non2xx} non-2xx${s.errors ? ` (${Object.entries(s.errorCodes).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`;
  const lines = [
    '# End-to-end results under a real systemd',
    '',
    'Written by the e2e suite (`pnpm test:e2e`, test/e2e/*.test.mjs) from its last run on',
    'each row\'s date; do not edit by hand. Load: a keep-alive client on the host',
    '(one socket per connection, GET / back to back) while `systemctl restart` runs',
    'inside a systemd-nspawn container booted with the named systemd. "socket unit":',
    'the shipped hardened hello.service + hello.socket; "plain port": the same app and',
    'hardening listening on a port itself (no socket unit), the contrast.',
    '',
    'Machine: 2 cores shared with other test suites running at the same time, so request',
    'counts and restart times vary from run to run; the failure counts are the point.',
    '`restart ms`: how long each `systemctl restart` took (median, min–max), start of the',
    'stop to READY=1 of the new process.',
    '',
    '| date | systemd | app | setup | connections × s | restarts | requests | failures (errors + non-2xx) | restart ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const appOrder = (a) => ['hello-fastify', 'hello-express', 'hello-koa'].indexOf(a.replace(/ .*/, ''));
  const flat = [...restart, ...fdstore].flatMap((r) => r.variants.map((v) => ({ r, v })));
  flat.sort((a, b) => (a.r.kind === b.r.kind ? 0 : a.r.kind === 'restart' ? -1 : 1)
    || String(a.r.systemd).localeCompare(String(b.r.systemd))
    || appOrder(a.r.app) - appOrder(b.r.app)
    || (a.v.setup === 'socket unit' ? -1 : 1));
  for (const { r, v } of flat) {
    const ms = v.restarts.map((x) => x.ms).sort((a, b) => a - b);
    const median = ms.length ? `${ms[Math.floor(ms.length / 2)]} (${ms[0]}–${ms.at(-1)})` : '';
    const failures = v.load.errors + v.load.non2xx;
    const why = [...Object.entries(v.load.errorCodes), ...Object.entries(v.load.statusCodes ?? {}).map(([k, n]) => [`HTTP ${k}`, n])].map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`| ${r.date} | ${r.systemd} | ${r.app}${r.standin ? ' (stand-in)' : ''} | ${v.setup} | ${v.load.connections} × ${Math.round(v.load.elapsedMs / 1000)} | ${v.restarts.length} | ${v.load.requests} | **${failures}**${why ? ` (${why})` : ''} | ${median} |`);
  }
  const reloads = rows.filter((r) => r.kind === 'cluster');
  if (reloads.length) {
    lines.push(
      '',
      '## Rolling reloads in cluster mode',
      '',
      'The example app, unchanged, as 2 workers of a `runCluster()` primary behind the socket unit;',
      'each `systemctl reload` switches `/opt/cluster/current` to a new release first. "stale": answers',
      'from an older version to requests sent after that reload completed. `reload ms`: how long',
      '`systemctl reload` took (252: `ExecReload=kill -HUP`, returns at once; 257: `Type=notify-reload`,',
      'returns after the roll).',
      '',
      '| date | systemd | app | reloads | requests | failures (errors + non-2xx) | stale | reload ms |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const r of reloads.sort((a, b) => String(a.systemd).localeCompare(String(b.systemd)) || appOrder(a.app) - appOrder(b.app))) {
      const { load, stale } = r.reload;
      const ms = r.reload.reloads.map((x) => x.ms).sort((a, b) => a - b);
      lines.push(`| ${r.date} | ${r.systemd} | ${r.app} | ${ms.length} | ${load.requests} | **${load.errors + load.non2xx}** | ${stale} | ${ms[Math.floor(ms.length / 2)]} (${ms[0]}–${ms.at(-1)}) |`);
    }
  }
  const notes = rows.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.systemd}, ${r.app}: ${n}`));
  if (notes.length) lines.push('', '## Notes', '', ...notes);
  lines.push('');
  fs.writeFileSync(path.join(here, 'RESULTS.md'), lines.join('\n'));
  return { fmt };
}

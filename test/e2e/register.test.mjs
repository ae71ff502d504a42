// Zero-code mode under a real systemd (252, the host's, and 257, the cached Debian
// 13 root): unmodified Express and Fastify apps (test/integration/fixtures/habits,
// `app.listen(port)` and `app.listen({ port })`) under a hardened .socket + .service
// pair whose ExecStart= is `node --import @node-systemd/notify/register app`.
// Socket-activated, active after `systemctl start`, 5 restarts under 8 keep-alive
// clients with 0 failed, `systemctl stop` gives Result=success. On 252 the same
// app on a plain port (no socket unit) is the contrast, reported and not asserted.
//
//   node --import tsx --test test/e2e/register.test.mjs      (after pnpm build)
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { bootSuiteContainer, get, inContainer, mountRepo, pickPort, recordResults, repo, resetUnits, restartsDuring, runLoad } from './lib.mjs';

const habits = path.join(repo, 'test', 'integration', 'fixtures', 'habits');
const APP_DIR = '/opt/habit';
const LOAD_SECONDS = 12;
const CLIENTS = 8;
const RESTARTS = 5;

/** The service: node itself as the main PID, the register entry preloaded, hardened as the examples are. */
function serviceUnit(script, { port, socket }) {
  return `[Unit]
Description=An unmodified ${script} app under the register entry (node-systemd e2e)
${socket ? 'Requires=habit.socket\nAfter=habit.socket\n' : ''}# The test restarts it 6 times in about 11 s on purpose (the default allows 5 starts in 10 s).
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/bin/node --import @node-systemd/notify/register ${APP_DIR}/${script}
WorkingDirectory=${APP_DIR}
# The app listens on this port by habit; under habit.socket systemd holds it already.
Environment=PORT=${port} NODE_ENV=production
WatchdogSec=10s
Restart=on-failure
RestartSec=100ms
TimeoutStopSec=45s
DynamicUser=yes
CapabilityBoundingSet=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
${socket ? 'PrivateNetwork=yes\nRestrictAddressFamilies=AF_UNIX' : 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'}
`;
}

const socketUnit = (port) => `[Unit]
Description=The socket of habit.service (node-systemd e2e)

[Socket]
ListenStream=127.0.0.1:${port}
FileDescriptorName=http
NoDelay=true
ReusePort=false
Backlog=4096

[Install]
WantedBy=sockets.target
`;

function defineHabitSuite({ systemd, contrast }) {
  describe(`register entry under systemd ${systemd}`, { concurrency: false }, () => {
    let c;
    let skip = false;

    before(async () => {
      const booted = await bootSuiteContainer('register', systemd);
      if (booted.skip) return (skip = booted.skip);
      c = booted.c;
      await mountRepo(c);
      await c.exec(['ln', '-sfn', inContainer(habits), APP_DIR], { check: true });
    });

    after(async () => {
      if (c) await c.stop();
    });

    for (const [framework, script] of [['express', 'express.cjs'], ['fastify', 'fastify.cjs']]) {
      test(`${framework} app.listen(port) + --import register: socket-activated, active, ${RESTARTS} restarts under ${CLIENTS} keep-alive clients with 0 failed, stop Result=success`, { timeout: 240_000 }, async (t) => {
        if (skip) return t.skip(skip);
        try {
          // Stopped before their files change: a running socket unit whose ListenStream= changed is left without a socket.
          await resetUnits(c, 'habit.service', 'habit.socket');
          const port = await pickPort();
          await c.writeFile('/etc/systemd/system/habit.socket', socketUnit(port));
          await c.writeFile('/etc/systemd/system/habit.service', serviceUnit(script, { port, socket: true }));
          await c.exec(['systemctl', 'daemon-reload'], { check: true, timeoutMs: 60_000 });

          // Socket activation: only the socket runs; the first request starts the service.
          await c.systemctl('start', 'habit.socket', { timeoutMs: 30_000, check: true });
          assert.equal((await c.show('habit.service', ['ActiveState'])).ActiveState, 'inactive');
          const first = await get(port, '/');
          assert.equal(first.status, 200);
          assert.equal(first.body, 'Hello World!');
          const started = await c.show('habit.service', ['ActiveState', 'SubState', 'StatusText', 'TriggeredBy', 'MainPID']);
          t.diagnostic(`StatusText=${JSON.stringify(started.StatusText)}`);
          assert.equal(started.ActiveState, 'active');
          assert.equal(started.SubState, 'running');
          assert.match(started.TriggeredBy, /habit\.socket/);
          assert.match(started.StatusText, new RegExp(`127\\.0\\.0\\.1:${port} \\(socket-activated fd 3 "http"\\)`));

          const [load, restarts] = await Promise.all([
            runLoad({ port, connections: CLIENTS, durationMs: LOAD_SECONDS * 1000 }),
            restartsDuring(c, 'habit.service', { times: RESTARTS, firstAfterMs: 1500, everyMs: Math.floor((LOAD_SECONDS * 1000 - 3000) / RESTARTS) }),
          ]);
          const variants = [{ setup: 'socket unit', unit: 'habit.service', load, restarts }];
          t.diagnostic(`socket unit: ${load.requests} requests, ${load.errors} errors ${JSON.stringify(load.errorCodes)}, ${load.non2xx} non-2xx; restarts took ${restarts.map((r) => r.ms).join(', ')} ms`);
          for (const r of restarts) {
            assert.equal(r.code, 0, `systemctl restart failed: ${r.stderr}`);
            assert.notEqual(r.newPid, r.oldPid);
            assert.equal(r.state, 'active/running');
          }
          assert.equal(load.errors, 0, `errors: ${JSON.stringify(load.errorCodes)}`);
          assert.equal(load.non2xx, 0, `non-2xx: ${JSON.stringify(load.statusCodes)}`);
          assert.ok(load.ok > 0);

          const stop = await c.systemctl('stop', 'habit.service', { timeoutMs: 60_000 });
          assert.equal(stop.code, 0, stop.stderr);
          // ExecMainCode=1 (CLD_EXITED) with status 0: the drain exited the process, not death by SIGTERM (code 2).
          const stopped = await c.show('habit.service', ['ActiveState', 'Result', 'ExecMainCode', 'ExecMainStatus']);
          assert.deepEqual(
            { state: stopped.ActiveState, result: stopped.Result, code: stopped.ExecMainCode, status: stopped.ExecMainStatus },
            { state: 'inactive', result: 'success', code: '1', status: '0' },
          );

          if (contrast) {
            // The same app on a plain port: it binds the port itself, so each restart closes it.
            await resetUnits(c, 'habit.service', 'habit.socket');
            const plainPort = await pickPort();
            await c.writeFile('/etc/systemd/system/habit.service', serviceUnit(script, { port: plainPort, socket: false }));
            await c.exec(['systemctl', 'daemon-reload'], { check: true, timeoutMs: 60_000 });
            await c.systemctl('start', 'habit.service', { timeoutMs: 60_000, check: true });
            const [plainLoad, plainRestarts] = await Promise.all([
              runLoad({ port: plainPort, connections: CLIENTS, durationMs: LOAD_SECONDS * 1000 }),
              restartsDuring(c, 'habit.service', { times: RESTARTS, firstAfterMs: 1500, everyMs: Math.floor((LOAD_SECONDS * 1000 - 3000) / RESTARTS) }),
            ]);
            variants.push({ setup: 'plain port', unit: 'habit.service', load: plainLoad, restarts: plainRestarts });
            t.diagnostic(`contrast (plain port, not asserted): ${plainLoad.errors + plainLoad.non2xx} failures of ${plainLoad.requests} ${JSON.stringify(plainLoad.errorCodes)}`);
            await resetUnits(c, 'habit.service');
          }
          recordResults(`restart-register-${framework}-${systemd}`, {
            kind: 'restart',
            date: new Date().toISOString().slice(0, 10),
            systemd: c.systemdVersion,
            app: `${framework} app.listen() + --import register`,
            variants,
          });
        } catch (error) {
          const journal = await c.exec(['sh', '-c', 'journalctl --sync; journalctl -u habit.service -u habit.socket -n 40 --no-pager'], { timeoutMs: 20_000 }).catch(() => ({ stdout: '' }));
          t.diagnostic(`journal (last 40 lines):\n${journal.stdout}`);
          throw error;
        }
      });
    }
  });
}

defineHabitSuite({ systemd: '252', contrast: true });
defineHabitSuite({ systemd: '257', contrast: false });

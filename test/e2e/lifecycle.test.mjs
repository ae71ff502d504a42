// The lifecycle's stop and start-up under a real systemd 252 (one container):
// a health check resolving undefined keeps the watchdog fed; a 60 s grace period
// outlasts TimeoutStopSec=5s through EXTEND_TIMEOUT_USEC=; a shell between
// systemd and node, and RestrictAddressFamilies= without AF_UNIX, are named in the journal.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { bootContainer, canBootContainer } from '../harness/container.mjs';
import { get, here, inContainer, mountRepo, pickPort, sleep } from './lib.mjs';

const FIXTURES = '/opt/fixtures';
const APP = `${FIXTURES}/lifecycle-app.js`;

function unit({ description, port, service = '' }) {
  return `[Unit]
Description=${description}

[Service]
Type=notify
ExecStart=/usr/bin/node ${APP}
Environment=PORT=${port}
DynamicUser=yes
${service}
`;
}

describe('systemd 252: the lifecycle', { concurrency: false }, () => {
  let c;
  let skip = false;

  before(async () => {
    const probe = await canBootContainer();
    if (!probe.ok) return (skip = `cannot boot a container: ${probe.reason}`);
    c = await bootContainer({ name: `nsd-e2e-lifecycle-${process.pid}`, systemd: '252', bind: [path.resolve(here, '../..')], bootTimeoutMs: 90_000 });
    console.log(`# container: systemd ${c.systemdVersion}, booted in ${c.bootMs} ms (${c.state})`);
    await mountRepo(c);
    await c.exec(['ln', '-sfn', inContainer(path.join(here, 'fixtures')), FIXTURES], { check: true });
  });

  after(async () => {
    if (c) await c.stop();
  });

  const it = (title, fn) =>
    test(title, { timeout: 120_000 }, async (t) => {
      if (skip) return t.skip(skip);
      await fn(t);
    });

  it('the health check async () => {} keeps the watchdog fed: NRestarts=0 after 3 x WatchdogSec', async (t) => {
    const port = await pickPort();
    await c.installUnit('lc-watchdog.service', unit({ description: 'watchdog with async () => {}', port, service: 'WatchdogSec=2s\nRestart=on-failure' }));
    await c.systemctl('start', 'lc-watchdog.service', { timeoutMs: 60_000, check: true });
    // The definition of the check is a span of time: three watchdog periods.
    await sleep(3 * 2000 + 1000);
    const p = await c.show('lc-watchdog.service', ['ActiveState', 'SubState', 'NRestarts', 'WatchdogUSec']);
    t.diagnostic(JSON.stringify(p));
    assert.equal(p.WatchdogUSec, '2s');
    assert.deepEqual([p.ActiveState, p.SubState, p.NRestarts], ['active', 'running', '0']);
    assert.doesNotMatch(await c.journal('lc-watchdog.service'), /[Ww]atchdog timeout/);
    assert.equal((await get(port, '/')).status, 200);
    await c.systemctl('stop', 'lc-watchdog.service', { timeoutMs: 60_000 });
  });

  it('a 60 s grace period under TimeoutStopSec=5s drains a 10 s request to completion: Result=success, no SIGKILL', async (t) => {
    const port = await pickPort();
    await c.installUnit('lc-grace.service', unit({ description: 'long grace, short stop timeout', port, service: 'Environment=GRACE_MS=60000\nTimeoutStopSec=5s' }));
    await c.systemctl('start', 'lc-grace.service', { timeoutMs: 60_000, check: true });
    const slow = get(port, '/slow?ms=10000', { timeoutMs: 60_000 });
    await c.waitForJournal('lc-grace.service', /slow request started/, { timeoutMs: 30_000 });
    const started = Date.now();
    await c.systemctl('stop', 'lc-grace.service', { timeoutMs: 90_000 });
    const stopMs = Date.now() - started;
    const reply = await slow;
    const p = await c.show('lc-grace.service', ['ActiveState', 'Result']);
    const journal = await c.journal('lc-grace.service');
    t.diagnostic(`systemctl stop took ${stopMs} ms; ${JSON.stringify(p)}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'slow');
    assert.deepEqual([p.ActiveState, p.Result], ['inactive', 'success']);
    assert.match(journal, /drained/);
    assert.doesNotMatch(journal, /timed out\. Killing|SIGKILL/);
  });

  it('started through a shell without exec: the journal names the fix', async () => {
    const port = await pickPort();
    const text = unit({ description: 'node under sh -c', port, service: 'TimeoutStartSec=30s' }).replace(
      /^ExecStart=.*$/m,
      `ExecStart=/bin/sh -c '/usr/bin/node ${APP}; exit $?'`,
    );
    await c.installUnit('lc-shell.service', text);
    await c.systemctl('start', '--no-block', 'lc-shell.service', { check: true });
    await c.waitForJournal('lc-shell.service', /runs under a shell \(pid \d+: .*\).*exec node/, { timeoutMs: 30_000 });
    await c.systemctl('stop', 'lc-shell.service', { timeoutMs: 60_000 });
  });

  it('RestrictAddressFamilies= without AF_UNIX: the journal names that setting', async () => {
    const port = await pickPort();
    await c.installUnit('lc-restricted.service', unit({ description: 'no AF_UNIX', port, service: 'RestrictAddressFamilies=AF_INET AF_INET6\nTimeoutStartSec=30s' }));
    await c.systemctl('start', '--no-block', 'lc-restricted.service', { check: true });
    await c.waitForJournal('lc-restricted.service', /RestrictAddressFamilies= must include AF_UNIX/, { timeoutMs: 30_000 });
    await c.systemctl('stop', 'lc-restricted.service', { timeoutMs: 60_000 });
  });
});

// Logging to the journal under a real systemd (252 and 257), checked with journalctl:
// pino levels, a thrown error's whole stack, custom fields, a 2 MiB entry through a
// sealed memfd, SYSLOG_IDENTIFIER, a journald restart while logging, and the
// Fastify example's request lines with REQ_ID. One container boot per version.
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { bootSuiteContainer, exampleApp, get, inContainer, installExample, mountRepo, pickPort, repo, resetUnits } from './lib.mjs';
import path from 'node:path';

const APP = path.join(repo, 'test', 'e2e', 'fixtures', 'journal-app.cjs');

/** journalctl -o json lines as objects; a field journald printed as a byte array becomes text. */
function parseJson(stdout) {
  return stdout.split('\n').filter(Boolean).map((line) => {
    const entry = JSON.parse(line);
    for (const [key, value] of Object.entries(entry)) {
      if (Array.isArray(value) && value.every((v) => typeof v === 'number')) entry[key] = Buffer.from(value).toString('utf8');
    }
    return entry;
  });
}

for (const systemd of ['252', '257']) {
  describe(`journal under systemd ${systemd}`, { concurrency: false }, () => {
    let c;
    let skip = false;
    const tag = randomBytes(4).toString('hex');

    const journalctl = async (...args) => {
      await c.exec(['journalctl', '--sync'], { timeoutMs: 20_000 });
      const r = await c.exec(['journalctl', '--no-pager', '-a', '-o', 'json', ...args], { timeoutMs: 30_000 });
      return parseJson(r.stdout);
    };
    /** Runs the fixture app as a transient, unprivileged unit and returns its result file. */
    const runApp = async (mode, { wait = true } = {}) => {
      const unit = `journal-e2e-${mode}`;
      const argv = ['systemd-run', `--unit=${unit}`, '-p', 'DynamicUser=yes', '-p', 'RuntimeDirectory=journal-e2e', '-p', 'RuntimeDirectoryPreserve=yes', '-p', 'LogRateLimitIntervalSec=0', ...(wait ? ['--wait'] : []), '/usr/bin/node', inContainer(APP), mode, tag];
      const r = await c.exec(argv, { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
      return unit;
    };
    const result = async (mode) => JSON.parse(await c.readFile(`/run/journal-e2e/result-${mode}.json`));

    before(async () => {
      const booted = await bootSuiteContainer('journal', systemd);
      if (booted.skip) return (skip = booted.skip);
      c = booted.c;
      await mountRepo(c);
    });

    after(async () => {
      if (c) await c.stop();
    });

    const it = (title, fn) =>
      test(title, { timeout: 180_000 }, async (t) => {
        if (skip) return t.skip(skip);
        try {
          await fn(t);
        } catch (error) {
          const tail = await c.exec(['sh', '-c', 'journalctl --sync; journalctl -n 40 --no-pager'], { timeoutMs: 20_000 }).catch(() => ({ stdout: '' }));
          t.diagnostic(`journal (last 40 lines):\n${tail.stdout}`);
          throw error;
        }
      });

    it('pino levels, a custom field, a thrown error and a 2 MiB memfd entry arrive as sent; SYSLOG_IDENTIFIER as configured', async (t) => {
      await runApp('entries');
      const out = await result('entries');
      t.diagnostic(`app: ${JSON.stringify(out)}`);
      assert.equal(out.sent, true);
      assert.equal(out.viaMemfd, 1, 'the 2 MiB entry went through the memfd path');

      const ours = await journalctl(`E2E_TAG=${tag}`);
      const priorityOf = (message) => ours.find((e) => e.MESSAGE === message)?.PRIORITY;
      for (const [level, priority] of Object.entries({ trace: '7', debug: '7', info: '6', warn: '4', error: '3', fatal: '2' })) {
        assert.equal(priorityOf(`level ${level}`), priority, `pino ${level}`);
      }
      const byIdentifier = await journalctl('-t', 'journal-e2e', `E2E_TAG=${tag}`);
      assert.ok(byIdentifier.length >= 8, `journalctl -t journal-e2e finds the entries (${byIdentifier.length})`);
      assert.equal(ours.find((e) => e.MESSAGE === 'default identifier')?.SYSLOG_IDENTIFIER, 'journal-e2e-entries', 'by default the unit name');

      const custom = await journalctl(`ORDER_ID=order-${tag}`);
      assert.equal(custom.length, 1, 'journalctl ORDER_ID=... finds the entry');
      assert.equal(custom[0].MESSAGE, 'custom field');

      const [latestError] = await journalctl('-p', 'err', '-n', '1');
      assert.equal(latestError.E2E_TAG, tag);
      assert.match(latestError.MESSAGE, /^SyntaxError: .*JSON/);
      const frames = latestError.MESSAGE.split('\n').filter((line) => /^ {4}at /.test(line));
      assert.ok(frames.length >= 3, `the whole stack is one entry (${frames.length} frames): ${latestError.MESSAGE}`);
      assert.ok(frames.some((f) => f.includes('loadConfig')) && frames.some((f) => f.includes('parseConfig')), 'frames of the throwing functions');

      const big = ours.find((e) => e.BIG_SHA256 !== undefined);
      assert.ok(big, 'the 2 MiB entry is in the journal');
      assert.equal(Buffer.byteLength(big.MESSAGE), out.bigBytes);
      assert.equal(createHash('sha256').update(big.MESSAGE).digest('hex'), big.BIG_SHA256, 'whole, byte for byte');
    });

    it('systemctl restart systemd-journald while logging: the app keeps running and logging never holds its loop 50 ms', async (t) => {
      await c.exec(['rm', '-f', '/run/journal-e2e/started', '/run/journal-e2e/stop', '/run/journal-e2e/result-restart.json']);
      const unit = await runApp('restart', { wait: false });
      const deadline = Date.now() + 30_000;
      while ((await c.exec(['test', '-e', '/run/journal-e2e/started'])).code !== 0) {
        assert.ok(Date.now() < deadline, 'the app started logging');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let i = 0; i < 2; i++) {
        const r = await c.systemctl('restart', 'systemd-journald', { timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
      }
      const props = await c.show(`${unit}.service`, ['ActiveState', 'NRestarts']);
      assert.equal(props.ActiveState, 'active', 'still running after two journald restarts');
      await c.exec(['touch', '/run/journal-e2e/stop']);
      // The app writes its result as its last act (or its error, if it failed).
      while ((await c.exec(['test', '-e', '/run/journal-e2e/result-restart.json'])).code !== 0) {
        assert.ok(Date.now() < deadline + 30_000, 'the app finished');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const out = await result('restart');
      t.diagnostic(`while journald restarted twice: ${out.written} entries written, ${out.sent} sent, ${out.dropped} dropped; longest logging call ${out.maxCallMs.toFixed(2)} ms; event loop delay max ${out.loopDelayMaxMs.toFixed(1)} ms, p99 ${out.loopDelayP99Ms.toFixed(1)} ms`);
      assert.equal(out.error, undefined);
      assert.equal(out.failed, 0);
      assert.ok(out.maxCallMs < 50, `the longest logging call held the loop ${out.maxCallMs} ms`);
      assert.ok(out.sent > 0 && out.written > 0);
      // The app holds its exit until its queued entries are sent (or their retries run out).
      while ((await c.exec(['systemctl', 'is-active', '--quiet', `${unit}.service`])).code === 0) {
        assert.ok(Date.now() < deadline + 60_000, 'the app exited');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const arrived = (await journalctl(`_SYSTEMD_UNIT=${unit}.service`, `E2E_TAG=${tag}`)).filter((e) => /^tick \d+$/.test(e.MESSAGE)).length;
      t.diagnostic(`${arrived} of ${out.written} entries are in the journal after the restarts`);
    });

    it('5000 entries/s for 10 s through pino: every entry is in the journal or counted as dropped', async (t) => {
      const unit = await runApp('rate');
      const out = await result('rate');
      const arrived = (await journalctl(`_SYSTEMD_UNIT=${unit}.service`, `E2E_TAG=${tag}`)).filter((e) => /^rate \d+$/.test(e.MESSAGE)).length;
      t.diagnostic(`${out.written} entries in ${out.seconds.toFixed(1)} s (${Math.round(out.written / out.seconds)}/s): ${arrived} in the journal, ${out.dropped} dropped, ${out.failed} failed`);
      assert.equal(out.failed, 0);
      assert.equal(arrived + out.dropped, out.written, 'every entry arrived or was counted as dropped');
    });

    it('the Fastify example: every line of a request carries REQ_ID', async (t) => {
      const port = await pickPort();
      await installExample(c, exampleApp('fastify'), { port });
      await resetUnits(c, 'hello.service', 'hello.socket');
      assert.equal((await c.systemctl('start', 'hello.service', { timeoutMs: 60_000 })).code, 0);
      const response = await get(port, '/');
      assert.equal(response.status, 200);
      const entries = await journalctl('-u', 'hello.service');
      const completed = entries.filter((e) => e.MESSAGE === 'request completed');
      assert.ok(completed.length >= 1, 'the request was logged');
      const reqId = completed.at(-1).REQ_ID;
      assert.ok(reqId, 'request completed carries REQ_ID');
      const lines = entries.filter((e) => e.REQ_ID === reqId);
      assert.deepEqual(lines.map((e) => e.MESSAGE), ['incoming request', 'request completed']);
      assert.equal(lines[0].REQ_METHOD, 'GET');
      assert.equal(lines[0].PRIORITY, '6');
      assert.equal(lines[1].RES_STATUS_CODE, '200');
      assert.equal(lines[0].SYSLOG_IDENTIFIER, 'hello', 'the unit name');
      const verbose = await c.exec(['journalctl', '--no-pager', '-o', 'verbose', '-u', 'hello.service', `REQ_ID=${reqId}`]);
      t.diagnostic(`journalctl -o verbose REQ_ID=${reqId}:\n${verbose.stdout}`);
      await resetUnits(c, 'hello.service', 'hello.socket');
    });
  });
}

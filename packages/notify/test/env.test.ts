import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isNotifyError, parseListenFds, parseNotifySocket, parseWatchdog } from '../src/index.js';
import { LISTEN_FDS_START, MAX_TIMER_MS } from '../src/env.js';
import { fixture, childEnv, collect, nodeArgs, repoRoot } from './helpers.js';
import { spawn } from 'node:child_process';

const RUNS = { numRuns: 1000 };
const invalid = (code: string) => (error: unknown) => isNotifyError(error) && error.code === code;

// --- NOTIFY_SOCKET ---------------------------------------------------------

test('success: NOTIFY_SOCKET path and @abstract parse to exact addresses', () => {
  const path = parseNotifySocket('/run/systemd/notify')!;
  assert.equal(path.kind, 'path');
  assert.deepEqual(path.address, Buffer.from('/run/systemd/notify'));
  const abstract = parseNotifySocket('@sd/notify')!;
  assert.equal(abstract.kind, 'abstract');
  assert.deepEqual(abstract.address, Buffer.from('\0sd/notify', 'latin1'));
});

test('no-op: NOTIFY_SOCKET unset means not supervised', () => {
  assert.equal(parseNotifySocket(undefined), undefined);
});

const badSockets: Array<[string, string, string]> = [
  ['empty', '', 'ERR_NOTIFY_SOCKET_INVALID'],
  ['relative', 'run/notify', 'ERR_NOTIFY_SOCKET_INVALID'],
  ['over 107 bytes', `/${'x'.repeat(107)}`, 'ERR_NOTIFY_SOCKET_INVALID'],
  ['abstract over 107 bytes', `@${'x'.repeat(108)}`, 'ERR_NOTIFY_SOCKET_INVALID'],
  ['vsock:', 'vsock:2:1234', 'ERR_NOTIFY_SOCKET_UNSUPPORTED'],
  ['vsock-dgram:', 'vsock-dgram:2:1234', 'ERR_NOTIFY_SOCKET_UNSUPPORTED'],
];
for (const [label, value, code] of badSockets) {
  test(`failure: NOTIFY_SOCKET ${label} is rejected with ${code}`, () => {
    assert.throws(() => parseNotifySocket(value), invalid(code));
  });
}

test('success: a 107-byte path (the most sockaddr_un holds) is accepted', () => {
  assert.equal(parseNotifySocket(`/${'x'.repeat(106)}`)!.address.length, 107);
});

test('property: parseNotifySocket returns an exact address or a typed error (1000 runs)', () => {
  const candidates = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'binary' }).map((s) => `/${s}`),
    fc.string({ unit: 'binary' }).map((s) => `@${s}`),
    fc.string().map((s) => `vsock:${s}`),
  );
  fc.assert(
    fc.property(candidates, (value) => {
      let result;
      try {
        result = parseNotifySocket(value);
      } catch (error) {
        assert.ok(isNotifyError(error, 'ERR_NOTIFY_SOCKET_INVALID') || isNotifyError(error, 'ERR_NOTIFY_SOCKET_UNSUPPORTED'), String(error));
        return;
      }
      assert.ok(result);
      assert.ok(result.address.length >= 1 && result.address.length <= 107);
      assert.ok(!value.includes('\0'));
      if (result.kind === 'path') {
        assert.ok(value.startsWith('/'));
        assert.deepEqual(result.address, Buffer.from(value, 'utf8'));
      } else {
        assert.ok(value.startsWith('@') && value.length > 1);
        assert.equal(result.address[0], 0);
        assert.deepEqual(result.address.subarray(1), Buffer.from(value.slice(1), 'utf8'));
      }
    }),
    RUNS,
  );
});

// --- WATCHDOG_USEC / WATCHDOG_PID --------------------------------------------

test('success: WATCHDOG_USEC for this process gives the timeout in µs and ms', () => {
  const settings = parseWatchdog({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) });
  assert.deepEqual(settings, { usec: 30_000_000n, timeoutMs: 30_000 });
  assert.equal(parseWatchdog({ WATCHDOG_USEC: '500' })!.timeoutMs, 1, 'sub-millisecond rounds up to 1 ms');
  assert.equal(parseWatchdog({ WATCHDOG_USEC: String(2n ** 63n) })!.timeoutMs, MAX_TIMER_MS, 'capped at what a timer can wait');
});

test('no-op: WATCHDOG_USEC unset means no watchdog', () => {
  assert.equal(parseWatchdog({}), undefined);
});

test('no-op: WATCHDOG_PID of another process means no watchdog for this one', () => {
  assert.equal(parseWatchdog({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: String(process.pid + 1) }), undefined);
});

for (const [label, env] of [
  ['WATCHDOG_USEC 0', { WATCHDOG_USEC: '0' }],
  ['WATCHDOG_USEC non-numeric', { WATCHDOG_USEC: '30s' }],
  ['WATCHDOG_USEC overflowing 64 bits', { WATCHDOG_USEC: '18446744073709551616' }],
  ['WATCHDOG_USEC negative', { WATCHDOG_USEC: '-1' }],
  ['WATCHDOG_PID non-numeric', { WATCHDOG_USEC: '1000000', WATCHDOG_PID: 'self' }],
] as const) {
  test(`failure: ${label} is rejected with ERR_NOTIFY_ENV_INVALID`, () => {
    assert.throws(() => parseWatchdog(env), invalid('ERR_NOTIFY_ENV_INVALID'));
  });
}

const numberish = fc.oneof(
  fc.string(),
  fc.bigInt({ min: -5n, max: 2n ** 66n }).map(String),
  fc.nat().map((n) => `0${n}`),
  fc.constantFrom('', '0', '1', ' 1', '1e3', '0x10', '18446744073709551615', '18446744073709551614'),
);

test('property: parseWatchdog returns undefined, exact settings or a typed error (1000 runs)', () => {
  const pid = 4242;
  fc.assert(
    fc.property(fc.option(numberish, { nil: undefined }), fc.option(fc.oneof(numberish, fc.constant(String(pid))), { nil: undefined }), (usec, wpid) => {
      const env = { ...(usec === undefined ? {} : { WATCHDOG_USEC: usec }), ...(wpid === undefined ? {} : { WATCHDOG_PID: wpid }) };
      let result;
      try {
        result = parseWatchdog(env, pid);
      } catch (error) {
        assert.ok(isNotifyError(error, 'ERR_NOTIFY_ENV_INVALID'), String(error));
        return;
      }
      if (result === undefined) {
        assert.ok(usec === undefined || (wpid !== undefined && wpid !== String(pid)));
        return;
      }
      assert.match(usec!, /^[1-9][0-9]*$/);
      assert.equal(result.usec, BigInt(usec!));
      assert.ok(result.usec < 2n ** 64n - 1n);
      const expectedMs = result.usec / 1000n;
      assert.equal(result.timeoutMs, expectedMs > BigInt(MAX_TIMER_MS) ? MAX_TIMER_MS : Math.max(1, Number(expectedMs)));
    }),
    RUNS,
  );
});

// --- LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES --------------------------------

test('success: LISTEN_FDS for this process lists fds from 3 with their names', () => {
  const fds = parseListenFds({ LISTEN_PID: String(process.pid), LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin' });
  assert.deepEqual(fds, [{ fd: 3, name: 'http' }, { fd: 4, name: 'admin' }]);
  assert.deepEqual(parseListenFds({ LISTEN_PID: String(process.pid), LISTEN_FDS: '1' }), [{ fd: 3, name: 'unknown' }]);
});

test('no-op: no LISTEN_* variables means no fds', () => {
  assert.deepEqual(parseListenFds({}), []);
});

test('no-op: LISTEN_PID of another process means the fds are not ours', () => {
  assert.deepEqual(parseListenFds({ LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '1' }), []);
});

for (const [label, env] of [
  ['LISTEN_FDS non-numeric', { LISTEN_FDS: 'two' }],
  ['LISTEN_FDS negative', { LISTEN_FDS: '-1' }],
  ['LISTEN_FDS huge', { LISTEN_FDS: '99999999999' }],
  ['LISTEN_FDS larger than an fd table', { LISTEN_FDS: '70000' }],
  ['LISTEN_FDNAMES not matching the count', { LISTEN_FDS: '2', LISTEN_FDNAMES: 'http' }],
  ['LISTEN_PID non-numeric', { LISTEN_FDS: '1', LISTEN_PID_OVERRIDE: 'me' }],
] as const) {
  test(`failure: ${label} is rejected with ERR_NOTIFY_ENV_INVALID`, () => {
    const { LISTEN_PID_OVERRIDE, ...rest } = env as Record<string, string>;
    assert.throws(() => parseListenFds({ LISTEN_PID: LISTEN_PID_OVERRIDE ?? String(process.pid), ...rest }), invalid('ERR_NOTIFY_ENV_INVALID'));
  });
}

test('no-op: LISTEN_FDS without LISTEN_PID is not addressed to us (as sd_listen_fds(3))', () => {
  assert.deepEqual(parseListenFds({ LISTEN_FDS: '1' }), []);
  assert.deepEqual(parseListenFds({ LISTEN_FDS: 'junk', LISTEN_FDNAMES: 'http' }), []);
});

test('property: parseListenFds returns [], consecutive named fds from 3, or a typed error (1000 runs)', () => {
  const pid = 777;
  const names = fc.array(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes(':')), { maxLength: 5 }).map((a) => a.join(':'));
  fc.assert(
    fc.property(
      fc.option(fc.oneof(numberish, fc.constant(String(pid))), { nil: undefined }),
      fc.option(fc.oneof(numberish, fc.integer({ min: 0, max: 5 }).map(String)), { nil: undefined }),
      fc.option(fc.oneof(names, fc.string()), { nil: undefined }),
      (listenPid, count, fdNames) => {
        const env = {
          ...(listenPid === undefined ? {} : { LISTEN_PID: listenPid }),
          ...(count === undefined ? {} : { LISTEN_FDS: count }),
          ...(fdNames === undefined ? {} : { LISTEN_FDNAMES: fdNames }),
        };
        let fds;
        try {
          fds = parseListenFds(env, pid);
        } catch (error) {
          assert.ok(isNotifyError(error, 'ERR_NOTIFY_ENV_INVALID'), String(error));
          return;
        }
        if (listenPid !== String(pid)) {
          assert.deepEqual(fds, []);
          return;
        }
        const n = count === undefined ? 0 : Number(count);
        assert.equal(fds.length, n);
        fds.forEach((fd, index) => {
          assert.equal(fd.fd, LISTEN_FDS_START + index);
          assert.equal(fd.name, fdNames === undefined ? 'unknown' : fdNames.split(':')[index]);
        });
      },
    ),
    RUNS,
  );
});

// --- capture and removal, in child processes -----------------------------------

async function capture(mode: 'default' | 'keep', extra: Record<string, string>) {
  const child = spawn(process.execPath, nodeArgs(fixture('env-capture.ts'), [mode]), { cwd: repoRoot, env: childEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(child);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { supervised: boolean; before: Record<string, string>; after: Record<string, string>; snapshot: Record<string, string>; grandchild: string[] };
}

const systemdVars = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '5000000', LISTEN_FDS: '0', LISTEN_PID: '1', LISTEN_FDNAMES: '' };

test('success: the variables are captured once and removed from process.env, so a child does not inherit them', async () => {
  const report = await capture('default', systemdVars);
  assert.equal(report.supervised, true);
  assert.deepEqual(report.before, systemdVars);
  assert.deepEqual(report.snapshot, systemdVars);
  assert.deepEqual(report.after, {});
  assert.deepEqual(report.grandchild, []);
});

test('success: keepEnvironment() leaves them in process.env (and children see them)', async () => {
  const report = await capture('keep', systemdVars);
  assert.deepEqual(report.after, systemdVars);
  assert.equal(report.grandchild.length, Object.keys(systemdVars).length);
});

test('no-op: off systemd nothing is set and nothing is supervised', async () => {
  const report = await capture('default', {});
  assert.equal(report.supervised, false);
  assert.deepEqual(report.snapshot, {});
});

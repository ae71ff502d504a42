import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerOptions } from '../src/register/options.js';

test('success: the register entry\'s defaults, each NODE_SYSTEMD_* variable read', () => {
  assert.deepEqual(registerOptions({}), {
    gracePeriodMs: 30_000,
    idleLingerMs: 250,
    forcedExitCode: 1,
    eventLoopMaxMs: 1000,
    fdNames: undefined,
    fdStore: false,
    unusedWarningMs: 5000,
  });
  const options = registerOptions({
    NODE_SYSTEMD_GRACE_MS: '5000',
    NODE_SYSTEMD_IDLE_LINGER_MS: '1000',
    NODE_SYSTEMD_FORCED_EXIT_CODE: '0',
    NODE_SYSTEMD_EVENT_LOOP_MAX_MS: '0',
    NODE_SYSTEMD_FDNAME: 'http, https',
    NODE_SYSTEMD_FDSTORE: '1',
    NODE_SYSTEMD_UNUSED_WARNING_MS: '100',
  });
  assert.deepEqual(options, {
    gracePeriodMs: 5000,
    idleLingerMs: 1000,
    forcedExitCode: 0,
    eventLoopMaxMs: 0,
    fdNames: ['http', 'https'],
    fdStore: true,
    unusedWarningMs: 100,
  });
});

test('failure: a bad value names the variable (ERR_NOTIFY_INVALID_OPTION)', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['NODE_SYSTEMD_GRACE_MS', '30s', /NODE_SYSTEMD_GRACE_MS="30s" is not an integer/],
    ['NODE_SYSTEMD_GRACE_MS', '-1', /NODE_SYSTEMD_GRACE_MS="-1"/],
    ['NODE_SYSTEMD_FORCED_EXIT_CODE', '256', /from 0 to 255/],
    ['NODE_SYSTEMD_FDSTORE', 'yes', /NODE_SYSTEMD_FDSTORE="yes" must be 1 \(on\) or 0 \(off\)/],
    ['NODE_SYSTEMD_FDNAME', 'http, a:b', /Each name in NODE_SYSTEMD_FDNAME must be a FileDescriptorName= of 1 to 255 printable ASCII characters without ":", got "a:b"/],
    ['NODE_SYSTEMD_FDNAME', `http,${'x'.repeat(256)}`, /Each name in NODE_SYSTEMD_FDNAME must be a FileDescriptorName=/],
  ];
  for (const [name, value, message] of cases) {
    assert.throws(() => registerOptions({ [name]: value }), (error: NodeJS.ErrnoException) => error.code === 'ERR_NOTIFY_INVALID_OPTION' && message.test(error.message));
  }
});

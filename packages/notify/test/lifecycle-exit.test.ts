// Signals and exits, with real signals sent to a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeNotifyManager } from '../src/testing/index.js';

interface Child {
  child: ChildProcess;
  manager: FakeNotifyManager;
  port: number;
  lines: string[];
  waitLine(match: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logged(event: string): Array<{ level: string; event: string; message: string }>;
}

async function start(env: Record<string, string>): Promise<Child> {
  const manager = await FakeNotifyManager.start();
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'lifecycle-app.ts')], {
    env: { ...process.env, ...manager.env(), NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitLine = async (match: RegExp): Promise<string> => {
    for (;;) {
      const found = lines.find((line) => match.test(line));
      if (found) return found;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${match}: ${lines.join('\n')}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
    }
  };
  const port = Number((await waitLine(/^ready /)).split(' ')[1]);
  const logged = (event: string) =>
    lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: string; event: string; message: string }).filter((entry) => entry.event === event);
  return { child, manager, port, lines, waitLine, exited, logged };
}

function request(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function stopped(app: Child): Promise<void> {
  app.child.kill('SIGKILL');
  await app.exited;
  app.manager.close();
}

test('success: another SIGTERM listener plus a pending timer still ends in exit 0, with one warning naming the exit option', { timeout: 30_000 }, async () => {
  const app = await start({ OTHER_LISTENER: '1', PENDING_TIMER: '1', LC_OPTIONS: JSON.stringify({ gracePeriodMs: 20_000 }) });
  try {
    app.child.kill('SIGTERM');
    const exit = await app.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, app.lines.join('\n'));
    assert.ok(app.lines.includes('app-sigterm') && app.lines.includes('drained'));
    const warnings = app.logged('signal-shared');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /exit: 'always'/);
    assert.match(warnings[0]!.message, /exit: false/);
    assert.equal(app.logged('exit-forced').length, 0);
  } finally {
    await stopped(app);
  }
});

test("success: exit: 'always' with another listener exits right after the drain, without a warning", { timeout: 30_000 }, async () => {
  const app = await start({ OTHER_LISTENER: '1', PENDING_TIMER: '1', LC_OPTIONS: JSON.stringify({ exit: 'always' }) });
  try {
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.equal(app.logged('signal-shared').length, 0);
  } finally {
    await stopped(app);
  }
});

test('success: exit: false leaves the process to the app after the drain', { timeout: 30_000 }, async () => {
  const app = await start({ LC_OPTIONS: JSON.stringify({ exit: false }), PENDING_TIMER: '1' });
  try {
    app.child.kill('SIGTERM');
    await app.waitLine(/^drained$/);
    // Still alive and answering a signal-free probe: the manager gets nothing more.
    await app.manager.waitFor('STATUS', { value: 'drained' });
    assert.equal(app.child.exitCode, null);
    assert.equal(app.logged('signal-shared').length, 0);
  } finally {
    await stopped(app);
  }
});

test('failure: Ctrl-C twice during a long drain exits at once with forcedExitCode', { timeout: 20_000 }, async () => {
  const app = await start({ LC_OPTIONS: JSON.stringify({ gracePeriodMs: 60_000, forcedExitCode: 3 }) });
  try {
    const hung = request(app.port, '/hang').catch((error: Error) => error);
    await app.waitLine(/^hang$/);
    app.child.kill('SIGINT');
    await app.waitLine(/"drain-started"/);
    app.child.kill('SIGINT');
    assert.deepEqual(await app.exited, { code: 3, signal: null });
    assert.match(app.logged('exit-forced')[0]!.message, /a second SIGINT/);
    await hung;
  } finally {
    await stopped(app);
  }
});

test('failure: a SIGTERM after the grace period ends a hung close hook at once with forcedExitCode', { timeout: 20_000 }, async () => {
  const app = await start({ HANG_CLOSE: '1', LC_OPTIONS: JSON.stringify({ gracePeriodMs: 200 }) });
  try {
    app.child.kill('SIGTERM');
    await app.waitLine(/^close-started$/);
    // The close hook starts only after the drain, which starts with the signal: the grace period is over.
    await new Promise<void>((resolve) => setTimeout(resolve, 300));
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.exited, { code: 1, signal: null });
    assert.match(app.logged('exit-forced')[0]!.message, /SIGTERM after the grace period/);
  } finally {
    await stopped(app);
  }
});

test('failure: a hung close hook is ended by the backstop with forcedExitCode', { timeout: 30_000 }, async () => {
  const app = await start({ HANG_CLOSE: '1', LC_OPTIONS: JSON.stringify({ gracePeriodMs: 100, forcedExitCode: 4 }) });
  try {
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.exited, { code: 4, signal: null });
    assert.match(app.logged('exit-forced')[0]!.message, /did not finish before the deadline/);
  } finally {
    await stopped(app);
  }
});

test('success: an SSE stream that ends on lifecycle.signal drains cleanly: exit 0, not forced', { timeout: 30_000 }, async () => {
  const app = await start({ LC_OPTIONS: JSON.stringify({ gracePeriodMs: 20_000 }) });
  try {
    const stream = request(app.port, '/sse');
    await app.waitLine(/^sse$/);
    app.child.kill('SIGTERM');
    assert.deepEqual(await stream, { status: 200, body: 'data: hello\n\ndata: bye\n\n' });
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.equal(app.logged('drain-forced').length, 0);
    assert.equal(app.manager.valuesOf('STATUS').at(-1), 'drained');
  } finally {
    await stopped(app);
  }
});

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { Notifier } from '../src/notifier.js';
import { FakeNotifyManager, type FakeManagerOptions } from '../src/testing/index.js';

/** The repository root: tsx resolves from there. */
export const repoRoot = resolve(__dirname, '..', '..', '..');
export const fixture = (name: string): string => join(__dirname, 'fixtures', name);

/** Environment for a child: ours minus the test runner's and systemd's variables, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES']) delete env[name];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** node --import tsx <fixture> ...: the same Node that runs the tests (NODE_BINARY in the matrix). */
export function nodeArgs(script: string, args: readonly string[] = []): string[] {
  return ['--import', 'tsx', script, ...args];
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output until it exits (killed after timeoutMs). */
export async function collect(child: ChildProcess, timeoutMs = 30_000): Promise<ChildResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (child.stdout && !child.stdout.readableEnded) await once(child.stdout, 'end').catch(() => {});
  return { code, signal, stdout, stderr };
}

/** Runs a fixture to completion. */
export function runFixture(name: string, args: readonly string[] = [], options: SpawnOptions = {}): Promise<ChildResult> {
  const child = spawn(process.execPath, nodeArgs(fixture(name), args), {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  return collect(child);
}

/** The first line of a child's stdout that parses as JSON. */
export async function firstJsonLine<T = unknown>(child: ChildProcess, timeoutMs = 30_000): Promise<T> {
  let buffered = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no JSON line within ${timeoutMs} ms; stdout=${buffered} stderr=${stderr}`)), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line && buffered.includes('\n', buffered.indexOf(line))) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line) as T);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing JSON; stdout=${buffered} stderr=${stderr}`));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET / over a fresh connection (no keep-alive); resolves the JSON body. */
export function getJson<T = any>(options: { port?: number; socketPath?: string }): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', ...options, path: '/', agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolvePromise(JSON.parse(body) as T));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Runs `body` with a fresh fake manager and a notifier pointed at it; closes both. */
export async function withManager(
  options: FakeManagerOptions,
  body: (manager: FakeNotifyManager, notifier: Notifier) => Promise<void>,
): Promise<void> {
  const manager = await FakeNotifyManager.start(options);
  const notifier = new Notifier({ socket: manager.socket });
  try {
    await body(manager, notifier);
  } finally {
    notifier.close();
    manager.close();
  }
}

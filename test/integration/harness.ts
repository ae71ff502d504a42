// The integration harness: runs test/integration/fixtures/app.cjs as a child
// (plain node, or exec'd by the real systemd-socket-activate), with a
// FakeNotifyManager as NOTIFY_SOCKET, and a load client in another process.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeNotifyManager } from '@node-systemd/notify/testing';

export const FRAMEWORKS = ['http', 'express4', 'express5', 'koa2', 'koa3', 'fastify4', 'fastify5'] as const;
/** The recipes (fixtures/recipes/): started like a framework, but not part of FRAMEWORKS. */
export type Framework = (typeof FRAMEWORKS)[number] | 'nest-express' | 'nest-fastify' | 'hono';
export type Transport = 'port' | 'activate-tcp' | 'activate-unix';

const fixtures = join(__dirname, 'fixtures');
const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';

export type Target = { port: number } | { path: string };

export interface App {
  manager: FakeNotifyManager;
  child: ChildProcess;
  target: Target;
  lines: string[];
  /** stderr lines (collected under systemd-socket-activate; on a port stderr is inherited). */
  errors: string[];
  /** Resolves with the first stderr line matching, past or future (under systemd-socket-activate). */
  waitError(match: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Resolves with the first stdout line matching, past or future. */
  waitLine(match: RegExp | string, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: bigint }>;
  /** STATUS= of READY=1 */
  readyStatus: string;
  stop(): void;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** One plain request that makes systemd-socket-activate exec the app. */
function knock(target: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    const where = 'port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.path };
    const req = httpGet({ ...where, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
  });
}

export interface StartOptions {
  /** Wait for READY=1 (default true). */
  waitReady?: boolean;
  /** Run this script instead of fixtures/app.cjs (an unmodified app for the register entry, say). */
  script?: string;
  /** Node options before the script (`--import`, `--require`). */
  nodeArgs?: string[];
  /** The app's working directory (where `--import PACKAGE` resolves from). */
  cwd?: string;
  /** How to make systemd-socket-activate exec the app: an HTTP request (default), or a bare connection for an app that never answers on the passed socket. */
  knock?: 'http' | 'connect';
}

/** A connection that is opened and closed at once: systemd-socket-activate execs the app on it. */
function connectOnce(target: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect('port' in target ? { host: '127.0.0.1', port: target.port } : { path: target.path }, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

export async function startApp(framework: Framework, transport: Transport, extraEnv: Record<string, string> = {}, options: StartOptions = {}): Promise<App> {
  const manager = await FakeNotifyManager.start();
  const dir = mkdtempSync(join(tmpdir(), 'nsd-int-'));
  const env: Record<string, string> = { FRAMEWORK: framework, ...manager.env(), ...extraEnv };
  let child: ChildProcess;
  let target: Target | undefined;
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  const app = options.script ?? join(fixtures, 'app.cjs');
  const argv = [...(options.nodeArgs ?? []), app];
  if (transport === 'port') {
    child = spawn(process.execPath, argv, { cwd: options.cwd, env: { ...process.env, ...env, PORT: '0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  } else {
    target = transport === 'activate-tcp' ? { port: await freePort() } : { path: join(dir, 'http.sock') };
    const address = 'port' in target ? `127.0.0.1:${target.port}` : target.path;
    // systemd-socket-activate passes only PATH/HOME/TERM and what -E names.
    // PORT / SOCKET_PATH: the passed socket's address, for apps that listen on it by habit.
    const port = 'port' in target ? { PORT: String(target.port) } : { SOCKET_PATH: target.path };
    const setenv = Object.entries({ ...env, ...port, NODE_OPTIONS: '' }).flatMap(([key, value]) => ['-E', `${key}=${value}`]);
    child = spawn(SOCKET_ACTIVATE, ['-l', address, '--fdname=http', ...setenv, process.execPath, ...argv], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const listening = new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stderr! });
      lines.on('line', (line) => {
        if (/^Listening on/.test(line)) resolve();
        else if (!/^(Communication attempt|Execing)/.test(line)) {
          errors.push(line);
          for (const wake of waiters) wake();
          process.stderr.write(`${line}\n`);
        }
      });
      child.once('exit', (code) => reject(new Error(`systemd-socket-activate exited with ${code}`)));
    });
    await listening;
  }
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: bigint }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: process.hrtime.bigint() })),
  );
  const waitIn =
    (list: string[], stream: string) =>
    (match: RegExp | string, timeoutMs = 20_000): Promise<string> =>
      new Promise((resolve, reject) => {
        const test = (line: string): boolean => (typeof match === 'string' ? line === match : match.test(line));
        const check = (): void => {
          const found = list.find(test);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${stream} line ${String(match)} within ${timeoutMs} ms; got ${JSON.stringify(list)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
  const waitLine = waitIn(lines, 'stdout');
  const waitError = waitIn(errors, 'stderr');
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    manager.close();
    rmSync(dir, { recursive: true, force: true });
  };
  let readyStatus = '';
  if (target) await (options.knock === 'connect' ? connectOnce(target) : knock(target));
  if (options.waitReady !== false) {
    try {
      readyStatus = (await manager.waitFor('READY', { timeoutMs: 20_000 })).fields.STATUS ?? '';
    } catch (error) {
      stop();
      throw error;
    }
    if (!target) target = { port: Number(/:(\d+)$/.exec(readyStatus)?.[1]) };
  }
  return { manager, child, target: target ?? { port: 0 }, lines, errors, waitLine, waitError, send: (line) => child.stdin!.write(`${line}\n`), exited, readyStatus, stop };
}

export interface LoadClient {
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  next<T = unknown>(event: string): Promise<T>;
  stop(): void;
}

export async function startLoadClient(target: Target): Promise<LoadClient> {
  const env = 'port' in target ? { TARGET_PORT: String(target.port) } : { TARGET_PATH: target.path };
  const child = fork(join(fixtures, 'load-client.cjs'), [], { env: { ...process.env, ...env, NODE_OPTIONS: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const events = new Map<string, (value: unknown) => void>();
  const early = new Map<string, unknown>();
  let nextId = 0;
  child.on('message', (message: { id?: number; result?: unknown; error?: string; event?: string; replies?: unknown }) => {
    if (message.event) {
      const waiter = events.get(message.event);
      if (waiter) waiter(message);
      else early.set(message.event, message);
      return;
    }
    const call = pending.get(message.id!);
    pending.delete(message.id!);
    if (message.error) call?.reject(new Error(message.error));
    else call?.resolve(message.result);
  });
  const next = <T>(event: string): Promise<T> =>
    new Promise<T>((resolve) => {
      if (early.has(event)) {
        resolve(early.get(event) as T);
        early.delete(event);
      } else events.set(event, (value) => resolve(value as T));
    });
  await next('up');
  return {
    call: <T>(cmd: string, args: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, cmd, ...args });
      }),
    next,
    stop: () => child.kill('SIGKILL'),
  };
}

/** The order the acceptance asks for: READY=1 -> STOPPING=1 + STATUS=draining (one datagram) -> STATUS=drained. */
export function lifecycleOrder(manager: FakeNotifyManager): { ready: number; stopping: number; drained: number; all: string } {
  manager.drainQueue();
  const fields = manager.messages.map((message) => message.fields);
  return {
    ready: fields.findIndex((f) => f.READY === '1'),
    stopping: fields.findIndex((f) => f.STOPPING === '1' && f.STATUS === 'draining'),
    drained: fields.findIndex((f) => f.STATUS === 'drained'),
    all: JSON.stringify(fields),
  };
}

/** GET path on 127.0.0.1:port without keep-alive; resolves with the body. */
export function hello(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

export const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/**
 * How many listening sockets the process holds (TCP, TCP6, unix), from /proc:
 * proves an app on a passed fd did not bind a second socket of its own.
 */
export function listeningSockets(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns[3] === '0A' && inodes.has(columns[9]!)) count++;
    }
  }
  for (const line of readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    // Flags 00010000 is __SO_ACCEPTCON: a listening unix socket.
    if (columns[3] === '00010000' && inodes.has(columns[6]!)) count++;
  }
  return count;
}

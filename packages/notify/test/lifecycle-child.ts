// A lifecycle app (fixtures/lifecycle-app.ts) as a child process under a fake
// manager, for tests that need real signals or a real parent process.
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeNotifyManager } from '../src/testing/index.js';

export interface Child {
  child: ChildProcess;
  manager: FakeNotifyManager;
  port: number;
  lines: string[];
  waitLine(match: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logged(event: string): Array<{ level: string; event: string; message: string }>;
}

export async function start(env: Record<string, string>, wrap: (command: string[]) => string[] = (command) => command): Promise<Child> {
  const manager = await FakeNotifyManager.start();
  const [file, ...args] = wrap([process.execPath, '--import', 'tsx', join(__dirname, 'fixtures', 'lifecycle-app.ts')]);
  const child = spawn(file!, args, {
    env: { ...process.env, ...manager.env(), NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so that stopped() also ends a wrapper's child.
    detached: true,
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

export function request(port: number, path: string): Promise<{ status: number; body: string }> {
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

export async function stopped(app: Child): Promise<void> {
  try {
    process.kill(-app.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await app.exited;
  app.manager.close();
}


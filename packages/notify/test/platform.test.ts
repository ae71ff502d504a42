// Off Linux (here: process.platform reported as 'darwin' by a --require preload)
// the package imports, every notify call resolves false, nothing native loads, and
// the lifecycle still drains on SIGINT: what a developer on macOS runs locally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { childEnv, fixture, nodeArgs, repoRoot } from './helpers.js';

test('no-op: as darwin, the lifecycle serves, drains an in-flight request on SIGINT and exits 0, with no native module loaded', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['--require', fixture('as-darwin.cjs'), ...nodeArgs(fixture('darwin-lifecycle.ts'))], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines: Record<string, unknown>[] = [];
  const waiters: [(line: Record<string, unknown>) => boolean, (line: Record<string, unknown>) => void][] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, at)) as Record<string, unknown>;
      buffered = buffered.slice(at + 1);
      lines.push(line);
      for (const waiter of waiters.filter(([match]) => match(line))) waiter[1](line);
    }
  });
  const next = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find(match);
      if (seen) resolve(seen);
      else waiters.push([match, resolve]);
    });
  const exited = once(child, 'exit');
  try {
    const started = await next((line) => 'port' in line);
    assert.equal(started.platform, 'darwin');
    assert.equal(started.supervised, false);
    assert.deepEqual(started.sent, [false, false, false, false], 'ready, status, watchdogPing and barrier all resolve false');
    assert.deepEqual(started.nativeLoads, []);

    const body = new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: started.port as number, path: '/slow' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
      });
      req.on('error', reject).end();
    });
    await next((line) => line.request === '/slow');
    child.kill('SIGINT');
    assert.equal(await body, 'slow done', 'the in-flight request completed during the drain');
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    const exit = lines.find((line) => 'exit' in line);
    assert.deepEqual(exit, { exit: 0, nativeLoads: [] }, 'no .node file was loaded, from start to exit');
  } finally {
    child.kill('SIGKILL');
  }
});

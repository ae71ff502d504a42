import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverFd } from '../src/index.js';
import { FakeNotifyManager, spawnWithListenFds } from '../src/testing/index.js';
import { childEnv, collect, repoRoot } from './helpers.js';
import { request } from 'node:http';

const packageDir = join(repoRoot, 'packages', 'notify');

/** The code block that follows the readme-main marker, exactly as users copy it. */
function mainSnippet(): string {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const match = /<!-- readme-main[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'README.md has a readme-main code block');
  return match[1]!;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

test('success: the README main snippet runs as written: READY on the activated socket, watchdog pings, serves, STOPPING on SIGTERM, exit 0', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(join(packageDir, 'dist', 'index.mjs')), 'build the package first (pnpm --filter @node-systemd/notify build)');
  const dir = mkdtempSync(join(tmpdir(), 'nsd-readme-'));
  const manager = await FakeNotifyManager.start();
  const listener = createServer().listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as AddressInfo).port;
  try {
    // Resolve '@node-systemd/notify' the way an app's node_modules would.
    mkdirSync(join(dir, 'node_modules', '@node-systemd'), { recursive: true });
    symlinkSync(packageDir, join(dir, 'node_modules', '@node-systemd', 'notify'));
    writeFileSync(join(dir, 'app.mjs'), mainSnippet());
    const child = spawnWithListenFds(process.execPath, [join(dir, 'app.mjs')], [{ fd: serverFd(listener)!, fdName: 'http' }], {
      cwd: dir,
      env: childEnv({ ...manager.env(), WATCHDOG_USEC: '1000000' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = collect(child);
    listener.close();
    const ready = await manager.waitFor('READY', { timeoutMs: 20_000 });
    assert.equal(ready.pid, child.pid);
    assert.equal(ready.fields.STATUS, 'serving on :8080');
    const ping = await manager.waitFor((m) => m.fields.WATCHDOG === '1' && m.pid === child.pid);
    assert.ok(ping);
    assert.equal(await get(port), 'hello\n');
    child.kill('SIGTERM');
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await manager.waitFor('STOPPING')).fields.STATUS, 'draining');
  } finally {
    listener.close();
    manager.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Every ```js snippet of the adapters' and the lifecycle's READMEs runs as
// written, socket-activated: the snippet's listen helper must take the passed fd
// named "http" (so no snippet binds its fallback port 3000), send READY=1, serve
// GET /, and drain and exit 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serverFd } from '@node-systemd/notify';
import { FakeNotifyManager, spawnWithListenFds } from '@node-systemd/notify/testing';

const root = join(__dirname, '..', '..');
const readmes = ['packages/fastify/README.md', 'packages/express/README.md', 'packages/koa/README.md', 'packages/notify/src/lifecycle/README.md'];
const work = join(__dirname, '..', '.work');

function snippets(file: string): string[] {
  return [...readFileSync(join(root, file), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

function hello(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** GET /events: resolves once the first event arrived, with a promise of the whole body. */
function events(port: number): Promise<{ body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      const ended = new Promise<string>((done) => res.on('end', () => done(body)));
      res.on('data', (chunk: string) => {
        body += chunk;
        resolve({ body: ended });
      });
    }).on('error', reject);
  });
}

for (const readme of readmes) {
  snippets(readme).forEach((code, index) => {
    test(`${readme} snippet ${index + 1} runs: READY on the passed fd, Hello World!, SIGTERM -> drained, exit 0${code.includes("'/events'") ? ', the SSE stream ends on lifecycle.signal' : ''}`, { timeout: 30_000 }, async () => {
      mkdirSync(work, { recursive: true });
      const file = join(work, `${readme.replace(/\W+/g, '-')}-${index + 1}.cjs`);
      writeFileSync(file, code);
      const manager = await FakeNotifyManager.start();
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const { port } = holder.address() as AddressInfo;
      const child = spawnWithListenFds(process.execPath, [file], [{ fd: serverFd(holder)!, fdName: 'http' }], {
        env: { ...process.env, ...manager.env(), NODE_OPTIONS: '' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const ready = await manager.waitFor('READY', { timeoutMs: 20_000 });
        holder.close(); // from here only the snippet holds the socket
        assert.match(ready.fields.STATUS!, /socket-activated fd 3 "http"/);
        assert.equal(await hello(port), 'Hello World!');
        // A snippet with server-sent events: the stream ends on lifecycle.signal, and the stop is clean.
        const stream = code.includes("'/events'") ? await events(port) : undefined;
        child.kill('SIGTERM');
        if (stream) assert.match(await stream.body, /event: bye\ndata: server stopping\n\n$/);
        assert.equal(await exited, 0);
        assert.equal(manager.valuesOf('STATUS').at(-1), 'drained');
      } finally {
        child.kill('SIGKILL');
        holder.close();
        manager.close();
      }
    });
  });
}

// The hello app of each framework (GET / -> "Hello World!"), with or without our
// adapter, for the overhead and start-up sections:
//
//   node hello-app.mjs <http|express|koa|fastify> <plain|ours>
//
// Listens on 127.0.0.1:$PORT (0 = any) and prints "listening <port> <abs ms>",
// abs ms being performance.timeOrigin + performance.now(). With the adapter it
// takes the socket-activated fd named "http" when systemd passed one, and with
// BENCH_FDSTORE=1 it stores its listening socket in systemd's fd store.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [framework, mode] = process.argv.slice(2);
const PORT = Number(process.env.PORT ?? 0);
const HOST = '127.0.0.1';
const HELLO = 'Hello World!';
const ours = mode === 'ours';
const lifecycleOptions = process.env.BENCH_FDSTORE === '1' ? { fdStore: true } : {};

function announce(server) {
  process.stdout.write(`listening ${server.address()?.port ?? 'fd'} ${performance.timeOrigin + performance.now()}\n`);
}

async function serveWith(packageName, app) {
  const { serve } = await import(packageName);
  const served = serve(app, { port: PORT, host: HOST, ...lifecycleOptions });
  await served.ready;
  return served.server;
}

switch (framework) {
  case 'http': {
    const handler = (req, res) => res.end(HELLO);
    if (ours) {
      const { serveHttp } = await import('@node-systemd/notify');
      const served = serveHttp(handler, { port: PORT, host: HOST, ...lifecycleOptions });
      await served.ready;
      announce(served.server);
    } else {
      const server = http.createServer(handler);
      server.listen(PORT, HOST, () => announce(server));
    }
    break;
  }
  case 'express': {
    const app = require('express')();
    app.get('/', (req, res) => res.send(HELLO));
    if (ours) {
      announce(await serveWith('@node-systemd/express', app));
    } else {
      const server = app.listen(PORT, HOST, () => announce(server));
    }
    break;
  }
  case 'koa': {
    const Koa = require('koa');
    const app = new Koa();
    app.use((ctx) => { ctx.body = HELLO; });
    if (ours) {
      announce(await serveWith('@node-systemd/koa', app));
    } else {
      const server = app.listen(PORT, HOST, () => announce(server));
    }
    break;
  }
  case 'fastify': {
    const app = require('fastify')({ logger: false });
    if (ours) {
      const { default: systemd } = await import('@node-systemd/fastify');
      await app.register(systemd, lifecycleOptions);
    }
    app.get('/', async () => HELLO);
    if (ours) await app.systemd.listen({ port: PORT, host: HOST });
    else await app.listen({ port: PORT, host: HOST });
    announce(app.server);
    break;
  }
  default:
    console.error(`unknown framework ${framework}`);
    process.exit(2);
}

// One HTTP server for the drain section, run as a child process:
//
//   node drain-server.mjs <variant>
//
// Routes: /fast answers at once; /slow after SLOW_MS (500); /stream sends its
// headers and a chunk at once, then a chunk every 50 ms until SLOW_MS.
// Prints "listening <port>" once listening and "start <route> <abs ms>" whenever a
// slow or streaming request begins (abs ms = performance.timeOrigin + now()).
// On SIGTERM each variant does what its library's README recommends.
import http from 'node:http';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';

const require = createRequire(import.meta.url);
const variant = process.argv[2];
const SLOW_MS = Number(process.env.SLOW_MS ?? 500);
const HOST = '127.0.0.1';
const now = () => performance.timeOrigin + performance.now();
const say = (line) => process.stdout.write(`${line}\n`);

/** Answers one request the node:http way; used by every node:http-based variant. */
function handler(req, res) {
  if (req.url === '/slow') {
    say(`start slow ${now()}`);
    setTimeout(() => res.end('slow'), SLOW_MS);
  } else if (req.url === '/stream') {
    say(`start stream ${now()}`);
    streamTo(res);
  } else {
    res.end('fast');
  }
}

function streamTo(res) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  writeChunks(res);
}

// A chunk every 50 ms for SLOW_MS, then the end: a response whose headers went out first.
function writeChunks(stream) {
  stream.write('chunk\n');
  const began = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - began >= SLOW_MS) {
      clearInterval(timer);
      stream.end('end\n');
    } else {
      stream.write('chunk\n');
    }
  }, 50);
  stream.on('close', () => clearInterval(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const listening = (server) => say(`listening ${server.address().port}`);

// Under sections/socket_holder.py (a stand-in for a .socket unit) the listening
// socket is fd 3; the peers then listen on it the way their READMEs say for an
// inherited fd, and ours find it by name themselves.
const activated = process.env.LISTEN_FDS === '1';

function listen(server) {
  server.listen(activated ? { fd: 3 } : { port: 0, host: HOST }, () => listening(server));
}

const variants = {
  // node:http with server.close(): stops accepting, closes idle sockets (Node >= 19),
  // waits for the rest (in-flight responses say keep-alive: keepAliveTimeout, 5 s).
  'plain-close'() {
    const server = http.createServer(handler);
    listen(server);
    process.on('SIGTERM', () => server.close(() => process.exit(0)));
  },
  // http-terminator 3.2.0 with its defaults (gracefulTerminationTimeout 1000 ms).
  'http-terminator'() {
    const { createHttpTerminator } = require('http-terminator');
    const server = http.createServer(handler);
    const terminator = createHttpTerminator({ server });
    listen(server);
    process.on('SIGTERM', async () => {
      await terminator.terminate();
      process.exit(0);
    });
  },
  // stoppable 1.1.0 with its default grace (Infinity).
  stoppable() {
    const stoppable = require('stoppable');
    const server = stoppable(http.createServer(handler));
    listen(server);
    process.on('SIGTERM', () => server.stop(() => process.exit(0)));
  },
  // @godaddy/terminus 4.12.1 with its defaults (timeout 1000 ms, stoppable inside).
  terminus() {
    const { createTerminus } = require('@godaddy/terminus');
    const server = http.createServer(handler);
    createTerminus(server, { signals: ['SIGTERM'] });
    listen(server);
  },
  // Fastify 5 with fastify.close() and default settings.
  async 'fastify-close'() {
    const app = require('fastify')({ logger: false });
    fastifyRoutes(app);
    // With an fd, a host other than localhost, or Fastify binds a second socket.
    await app.listen(activated ? { fd: 3, host: '0.0.0.0' } : { port: 0, host: HOST });
    listening(app.server);
    process.on('SIGTERM', async () => {
      await app.close();
      process.exit(0);
    });
  },
  // Ours: node:http with the core lifecycle.
  async 'ours-http'() {
    const { createLifecycle } = await import('@node-systemd/notify');
    const lifecycle = createLifecycle();
    const server = http.createServer(handler);
    await lifecycle.listen(server, { port: 0, host: HOST });
    await lifecycle.ready();
    listening(server);
  },
  // A probe, not a recommendation: the same without the idle linger, to show what
  // the linger costs in the streaming case and what it buys in the busy one.
  async 'ours-http-nolinger'() {
    const { createLifecycle } = await import('@node-systemd/notify');
    const lifecycle = createLifecycle({ idleLingerMs: 0 });
    const server = http.createServer(handler);
    await lifecycle.listen(server, { port: 0, host: HOST });
    await lifecycle.ready();
    listening(server);
  },
  async 'ours-express'() {
    const express = require('express');
    const { serve } = await import('@node-systemd/express');
    const app = express();
    app.get('/slow', async (req, res) => {
      say(`start slow ${now()}`);
      await sleep(SLOW_MS);
      res.send('slow');
    });
    app.get('/stream', (req, res) => {
      say(`start stream ${now()}`);
      streamTo(res);
    });
    app.get('/fast', (req, res) => res.send('fast'));
    const served = serve(app, { port: 0, host: HOST });
    await served.ready;
    listening(served.server);
  },
  async 'ours-koa'() {
    const Koa = require('koa');
    const { serve } = await import('@node-systemd/koa');
    const app = new Koa();
    app.use(async (ctx) => {
      if (ctx.path === '/slow') {
        say(`start slow ${now()}`);
        await sleep(SLOW_MS);
        ctx.body = 'slow';
      } else if (ctx.path === '/stream') {
        say(`start stream ${now()}`);
        ctx.respond = false;
        streamTo(ctx.res);
      } else {
        ctx.body = 'fast';
      }
    });
    const served = serve(app, { port: 0, host: HOST });
    await served.ready;
    listening(served.server);
  },
  async 'ours-fastify'() {
    const { default: systemd } = await import('@node-systemd/fastify');
    const app = require('fastify')({ logger: false });
    await app.register(systemd, {});
    fastifyRoutes(app);
    await app.systemd.listen({ port: 0, host: HOST });
    listening(app.server);
  },
};

function fastifyRoutes(app) {
  app.get('/fast', async () => 'fast');
  app.get('/slow', async () => {
    say(`start slow ${now()}`);
    await sleep(SLOW_MS);
    return 'slow';
  });
  app.get('/stream', (request, reply) => {
    say(`start stream ${now()}`);
    const body = new PassThrough();
    writeChunks(body);
    return reply.type('text/plain').send(body);
  });
}

const setup = variants[variant];
if (!setup) {
  console.error(`unknown variant ${variant}`);
  process.exit(2);
}
await setup();

// Hello World on Express as a systemd service. Listens on the socket-activated
// fd named "http" (hello.socket) when there is one, else on $PORT/$HOST; READY=1
// once listening, the watchdog with a health check, a graceful drain on SIGTERM.
//
// HELLO_TEST_HOOKS=1 (tests only, off by default): GET /stall?ms=N blocks the
// event loop, GET /slow?ms=N answers late, GET /unhealthy fails the health check.
// HELLO_FDSTORE=1 keeps the listener in systemd's fd store across restarts;
// HELLO_RELOAD_MS=N makes SIGHUP a reload that takes N ms.
import express from 'express';
import { describeServer } from '@node-systemd/notify';
import { serve } from '@node-systemd/express';

const env = process.env;
const hooks = env.HELLO_TEST_HOOKS === '1';
let healthy = true;
let reloads = 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const msOf = (query: unknown): number => Math.max(0, Number((query as { ms?: string }).ms ?? 0) || 0);

const app = express();
app.get('/', (_req, res) => {
  res.send('Hello World!');
});
if (hooks) {
  app.get('/stall', (req, res) => {
    const end = Date.now() + msOf(req.query);
    while (Date.now() < end);
    res.send('stalled\n');
  });
  app.get('/slow', (req, res) => {
    setTimeout(() => res.send('slow\n'), msOf(req.query));
  });
  app.get('/unhealthy', (_req, res) => {
    healthy = false;
    res.send('unhealthy\n');
  });
}

const { server, lifecycle, ready } = serve(app, {
  port: Number(env.PORT ?? 3000),
  host: env.HOST ?? '127.0.0.1',
  healthCheck: () => healthy,
  fdStore: env.HELLO_FDSTORE === '1',
  ...(env.HELLO_RELOAD_MS === undefined
    ? {}
    : {
        reload: async () => {
          console.log('reloading');
          await sleep(Number(env.HELLO_RELOAD_MS));
          console.log(`reloaded (${++reloads})`);
        },
      }),
});
lifecycle.on('ready', () => console.log(`listening on ${describeServer(server)}`));
lifecycle.on('draining', () => console.log('draining'));
lifecycle.on('drained', () => console.log('drained'));
ready.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

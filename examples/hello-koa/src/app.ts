// Hello World on Koa as a systemd service. Listens on the socket-activated fd
// named "http" (hello.socket) when there is one, else on $PORT/$HOST; READY=1
// once listening, the watchdog with a health check, a graceful drain on SIGTERM.
//
// HELLO_TEST_HOOKS=1 (tests only, off by default): GET /stall?ms=N blocks the
// event loop, GET /slow?ms=N answers late, GET /unhealthy fails the health check.
// HELLO_FDSTORE=1 keeps the listener in systemd's fd store across restarts;
// HELLO_RELOAD_MS=N makes SIGHUP a reload that takes N ms.
import Koa from 'koa';
import { describeServer } from '@node-systemd/notify';
import { serve } from '@node-systemd/koa';

const env = process.env;
const hooks = env.HELLO_TEST_HOOKS === '1';
let healthy = true;
let reloads = 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const msOf = (query: unknown): number => Math.max(0, Number((query as { ms?: string }).ms ?? 0) || 0);

const app = new Koa();
app.use(async (ctx) => {
  if (hooks && ctx.path === '/stall') {
    const end = Date.now() + msOf(ctx.query);
    while (Date.now() < end);
    ctx.body = 'stalled\n';
  } else if (hooks && ctx.path === '/slow') {
    await sleep(msOf(ctx.query));
    ctx.body = 'slow\n';
  } else if (hooks && ctx.path === '/unhealthy') {
    healthy = false;
    ctx.body = 'unhealthy\n';
  } else if (ctx.path === '/') {
    ctx.body = 'Hello World!';
  }
});

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

// Hello World on Fastify as a systemd service. Listens on the socket-activated
// fd named "http" (hello.socket) when there is one, else on $PORT/$HOST; READY=1
// once listening, the watchdog with a health check, a graceful drain on SIGTERM.
//
// HELLO_TEST_HOOKS=1 (tests only, off by default): GET /stall?ms=N blocks the
// event loop, GET /slow?ms=N answers late, GET /unhealthy fails the health check.
// HELLO_FDSTORE=1 keeps the listener in systemd's fd store across restarts;
// HELLO_RELOAD_MS=N makes SIGHUP a reload that takes N ms.
import Fastify from 'fastify';
import systemd from '@node-systemd/fastify';

const env = process.env;
const hooks = env.HELLO_TEST_HOOKS === '1';
let healthy = true;
let reloads = 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const msOf = (query: unknown): number => Math.max(0, Number((query as { ms?: string }).ms ?? 0) || 0);

async function main(): Promise<void> {
  // return503OnClosing: false lets requests that reach an open keep-alive
  // connection during fastify.close() be served (with Connection: close).
  const app = Fastify({ return503OnClosing: false });
  await app.register(systemd, {
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
  app.systemd.lifecycle.on('draining', () => console.log('draining'));
  app.systemd.lifecycle.on('drained', () => console.log('drained'));

  app.get('/', async () => 'Hello World!');
  if (hooks) {
    app.get('/stall', async (request) => {
      const end = Date.now() + msOf(request.query);
      while (Date.now() < end);
      return 'stalled\n';
    });
    app.get('/slow', async (request) => {
      await sleep(msOf(request.query));
      return 'slow\n';
    });
    app.get('/unhealthy', async () => {
      healthy = false;
      return 'unhealthy\n';
    });
  }

  const address = await app.systemd.listen({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' });
  console.log(`listening on ${address}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

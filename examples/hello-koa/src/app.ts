// Hello World on Koa as a systemd service: READY=1 once it listens (on the
// socket-activated fd "http" from hello.socket, else on $PORT or 3000), the
// watchdog, and a graceful drain on SIGTERM.
import Koa from 'koa';
import { serve } from '@node-systemd/koa';
import { createJournalLogger } from '@node-systemd/notify';

// Journal entries under systemd (a whole stack in one entry), plain lines in a terminal.
const log = createJournalLogger();

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/') ctx.body = 'Hello World!';
});

// Each watchdog ping waits on healthCheck: resolving is healthy; false, a throw or a timeout withholds the ping.
const { ready } = serve(app, { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1', healthCheck: async () => true });
ready.catch((error: unknown) => {
  log.error(error);
  process.exit(1);
});

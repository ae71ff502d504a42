// Hello World on Fastify as a systemd service: READY=1 once it listens (on the
// socket-activated fd "http" from hello.socket, else on $PORT or 3000), the
// watchdog, and a graceful drain on SIGTERM.
import Fastify from 'fastify';
import systemd from '@node-systemd/fastify';
import { journal } from '@node-systemd/pino';

async function main(): Promise<void> {
  // Requests that reach an open keep-alive connection while closing are still served.
  // Under systemd each log line is a journal entry (REQ_ID on a request's lines); JSON lines in a terminal.
  const app = Fastify({ return503OnClosing: false, logger: { stream: journal() } });
  // Each watchdog ping waits on this: resolving is healthy; false, a throw or a timeout withholds the ping.
  await app.register(systemd, { healthCheck: async () => true });
  app.get('/', async () => 'Hello World!');
  await app.systemd.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

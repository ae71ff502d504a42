// ESM under "module": "nodenext", "node16" and "bundler": default and named imports of every
// adapter give its main export, typed as it (compiled, never run: tsc --noEmit).
import { createServer, type RequestListener } from 'node:http';
import Fastify from 'fastify';
import systemd, { systemd as namedSystemd, type SystemdPluginOptions, type FastifySystemd } from '@node-systemd/fastify';
import serveExpress, { serve as namedServeExpress, drainMiddleware, type ExpressServeOptions } from '@node-systemd/express';
import serveKoa, { serve as namedServeKoa, type KoaServeOptions } from '@node-systemd/koa';
import { createLifecycle, type Served } from '@node-systemd/notify';

const app = Fastify();
const options: SystemdPluginOptions = { gracePeriodMs: 1000 };
await app.register(systemd, options);
await app.register(namedSystemd, { fdName: 'http' });
const decorated: FastifySystemd = app.systemd;
void decorated;
const same: typeof systemd = namedSystemd;
void same;

const handler: RequestListener = (_req, res) => res.end('ok');
const expressOptions: ExpressServeOptions = { port: 0 };
const served: Served = serveExpress(handler, expressOptions);
const served2: Served = namedServeExpress(handler);
const middleware: (req: never, res: never, next: () => void) => void = drainMiddleware(createLifecycle());
void [served, served2, middleware, createServer];

const koaApp = { callback: () => handler };
const koaOptions: KoaServeOptions = { port: 0 };
const served3: Served = serveKoa(koaApp, koaOptions);
const served4: Served = namedServeKoa(koaApp);
void [served3, served4];

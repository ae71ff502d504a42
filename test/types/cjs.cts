// CommonJS TypeScript under "module": "nodenext" / "node16": `import x = require()`
// gives the main export itself, and the named and default forms work as well.
import type { RequestListener } from 'node:http';
import Fastify = require('fastify');
import systemd = require('@node-systemd/fastify');
import serveExpress = require('@node-systemd/express');
import serveKoa = require('@node-systemd/koa');
import defaultSystemd from '@node-systemd/fastify';
import { systemd as namedSystemd } from '@node-systemd/fastify';
import type { Served } from '@node-systemd/notify';

const app = Fastify();
void app.register(systemd, { gracePeriodMs: 1000 });
void app.register(systemd.systemd);
void app.register(systemd.default);
void app.register(defaultSystemd);
void app.register(namedSystemd);
const options: systemd.SystemdPluginOptions = { fdName: 'http' };
void options;

const handler: RequestListener = (_req, res) => res.end('ok');
const served: Served = serveExpress(handler, { port: 0 });
const served2: Served = serveExpress.serve(handler);
const drain: typeof serveExpress.drainMiddleware = serveExpress.drainMiddleware;
const expressOptions: serveExpress.ExpressServeOptions = {};
const served3: Served = serveKoa({ callback: () => handler }, { port: 0 } satisfies serveKoa.KoaServeOptions);
void [served, served2, drain, expressOptions, served3];

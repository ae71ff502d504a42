// @ts-check
// Plain JavaScript with type checking (an editor's view): a bare require() of an
// adapter is its main export, typed as it.
const Fastify = require('fastify');
const systemd = require('@node-systemd/fastify');
const serve = require('@node-systemd/express');
const serveKoa = require('@node-systemd/koa');

const app = Fastify();
app.register(systemd, { gracePeriodMs: 1000 });
/** @type {import('node:http').RequestListener} */
const handler = (_req, res) => {
  res.end('ok');
};
/** @type {import('@node-systemd/notify').Served} */
const served = serve(handler, { port: 0 });
/** @type {import('@node-systemd/notify').Served} */
const served2 = serveKoa({ callback: () => handler });
void [served, served2, serve.drainMiddleware];

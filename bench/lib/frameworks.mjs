// The frameworks every per-framework section measures, with the adapter each uses.
export const FRAMEWORKS = [
  { id: 'http', label: 'node:http', ours: 'serveHttp (@node-systemd/notify)' },
  { id: 'express', label: 'Express 5.3.0', ours: '@node-systemd/express serve()' },
  { id: 'koa', label: 'Koa 3.3.0', ours: '@node-systemd/koa serve()' },
  { id: 'fastify', label: 'Fastify 5.12.8', ours: '@node-systemd/fastify plugin' },
];

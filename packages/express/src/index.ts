export { serve, drainMiddleware, probes, type ExpressServeOptions, type DrainMiddlewareOptions } from './serve.js';
export type { Served } from '@node-systemd/notify';

export { serve, probes, type KoaServeOptions } from './serve.js';
export type { Served } from '@node-systemd/notify';

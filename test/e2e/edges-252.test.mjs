// STATUS newline and the fd store under the host's systemd (252).
import { defineEdgeSuite } from './edges.mjs';

defineEdgeSuite({ systemd: '252', readmeInstall: true, fdStoreApps: ['fastify', 'express', 'koa'] });

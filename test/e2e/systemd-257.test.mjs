// The suite again under systemd 257 (a cached Debian 13 root), plus what 252 lacks:
// Type=notify-reload, and the fd store with FileDescriptorStorePreserve=.
import { defineEdgeSuite } from './edges.mjs';
import { defineExampleSuite } from './suite.mjs';

defineEdgeSuite({ systemd: '257' });
for (const name of ['fastify', 'express', 'koa']) defineExampleSuite(name, { systemd: '257', contrast: false });

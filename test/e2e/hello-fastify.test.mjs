// hello-fastify under the host's systemd (252): node --import tsx --test test/e2e/hello-fastify.test.mjs
import { defineExampleSuite } from './suite.mjs';

defineExampleSuite('fastify', { systemd: '252' });

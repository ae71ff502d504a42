// hello-koa under the host's systemd (252): node --import tsx --test test/e2e/hello-koa.test.mjs
import { defineExampleSuite } from './suite.mjs';

defineExampleSuite('koa', { systemd: '252' });

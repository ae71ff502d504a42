// hello-express under the host's systemd (252): node --import tsx --test test/e2e/hello-express.test.mjs
import { defineExampleSuite } from './suite.mjs';

defineExampleSuite('express', { systemd: '252' });

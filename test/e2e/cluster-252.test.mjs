// Cluster mode under the host's systemd (252): node --import tsx --test test/e2e/cluster-252.test.mjs
import { defineClusterSuite } from './cluster.mjs';

defineClusterSuite({ systemd: '252' });

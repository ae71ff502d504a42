// Cluster mode under systemd 257 (Type=notify-reload): node --import tsx --test test/e2e/cluster-257.test.mjs
import { defineClusterSuite } from './cluster.mjs';

defineClusterSuite({ systemd: '257' });

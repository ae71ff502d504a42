// The cluster section's primary: runCluster() with <workers> workers of the hello
// app (<framework>, our adapter), on $PORT. Prints "cluster-ready" once every
// worker listens and "cluster-reloaded" after each rolling reload (SIGHUP).
//
//   node cluster-primary.mjs <framework> <workers>
import { fileURLToPath } from 'node:url';
import { runCluster } from '@node-systemd/notify/cluster';

const [framework, workers] = process.argv.slice(2);
const cluster = runCluster({
  worker: fileURLToPath(new URL('./hello-app.mjs', import.meta.url)),
  args: [framework, 'ours'],
  workers: Number(workers),
  version: 'bench',
  log: () => {},
});
void cluster.ready.then(() => process.stdout.write('cluster-ready\n'));
cluster.on('reloaded', () => process.stdout.write('cluster-reloaded\n'));
cluster.on('reloadFailed', (error) => process.stdout.write(`cluster-reload-failed ${error.message}\n`));

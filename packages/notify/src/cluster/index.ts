/**
 * @node-systemd/notify/cluster: one systemd service, many workers. The primary
 * speaks sd_notify for all of them; each worker runs an ordinary app whose
 * lifecycle reports to the primary over IPC.
 */
export { runCluster, Cluster, type ClusterWorkerInfo } from './primary.js';
export type { ClusterOptions } from './options.js';
export type { WorkerState, WorkerExit } from './worker-process.js';

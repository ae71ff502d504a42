export { Lifecycle, createLifecycle, type LifecycleState } from './lifecycle.js';
export type { LifecycleOptions, ExitMode } from './options.js';
export type { LifecycleLogger, LifecycleEvent } from './log.js';
export type { DrainResult } from './drain.js';
export type { LifecycleSignal } from './signals.js';
export { serveHttp, type ServeOptions, type Served } from './serve.js';
export { probeHandler, type ProbePaths } from './probes.js';

import { availableParallelism } from 'node:os';
import { NotifyError } from '../errors.js';
import type { Notifier } from '../notifier.js';

export interface ClusterOptions {
  /** Path of the worker module: an ordinary app using an adapter or the lifecycle. Re-read from disk at every fork, so a reload runs the code on disk. */
  worker: string;
  /** How many workers. Default os.availableParallelism() (one per core). */
  workers?: number;
  /** Arguments and Node options for the workers. Default: none and the primary's execArgv. */
  args?: readonly string[];
  execArgv?: readonly string[];
  /** Extra environment for the workers. */
  env?: Readonly<Record<string, string>>;
  /** The version shown in STATUS=, read at each fork. Default: "version" of the package.json nearest the worker module. */
  version?: string | (() => string);
  /** The fewest healthy workers with which the primary still pings systemd's watchdog. Default half the workers, rounded up (the others are being replaced). */
  minWorkers?: number;
  /** How long a new worker may take to listen (READY=1), in ms. Default 30 000. */
  startTimeoutMs?: number;
  /** A worker whose last heartbeat is older than this is replaced, in ms. Default half of WatchdogSec=, or 10 000 without a watchdog. */
  heartbeatTimeoutMs?: number;
  /** How long a draining worker may take before SIGKILL, in ms. Default 40 000 (the lifecycle's 30 s grace period and a margin). */
  stopTimeoutMs?: number;
  /** Delay before restarting a worker that crashed again: doubles from this, in ms. Default 500. */
  backoffInitialMs?: number;
  /** The longest such delay, in ms. Default 30 000. */
  backoffMaxMs?: number;
  /** A worker that ran this long before crashing starts a new crash count, in ms. Default 10 000. */
  stableMs?: number;
  /** Where to send notifications. Default: the process-wide notifier ($NOTIFY_SOCKET). */
  notifier?: Notifier;
  /** Install SIGTERM/SIGINT (drain) and SIGHUP (rolling reload) handlers. Default true. */
  handleSignals?: boolean;
  /** After a signal's drain, end the process (0 when every worker drained cleanly, else 1). Default true. */
  exit?: boolean;
  /** One line for the journal: worker starts, exits, replacements, reload failures. Default: stderr. */
  log?: (line: string) => void;
  /** How the process ends after a signal; for tests. Default process.exit. */
  exitProcess?: (code: number) => void;
}

export type ResolvedClusterOptions = Required<Omit<ClusterOptions, 'notifier' | 'heartbeatTimeoutMs' | 'env' | 'version'>> &
  Pick<ClusterOptions, 'notifier' | 'heartbeatTimeoutMs' | 'env' | 'version'>;

function invalid(message: string): never {
  throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', message);
}

function count(name: string, value: number | undefined, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum || value > 1024) invalid(`The ${name} option must be an integer from ${minimum} to 1024, got ${String(value)}.`);
  return value;
}

function ms(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 2 ** 31 - 1) {
    invalid(`The ${name} option must be a number of milliseconds from 1 to ${2 ** 31 - 1}, got ${String(value)}.`);
  }
  return value;
}

/** Checks the options once, with full-sentence messages, and fills in the defaults. */
export function checkClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  if (options === null || typeof options !== 'object') invalid(`runCluster() needs an options object, got ${String(options)}.`);
  if (typeof options.worker !== 'string' || options.worker === '') invalid(`The worker option must be the path of the worker module, got ${JSON.stringify(options.worker)}.`);
  for (const name of ['log', 'exitProcess'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') invalid(`The ${name} option must be a function, got ${typeof options[name]}.`);
  }
  if (options.version !== undefined && typeof options.version !== 'string' && typeof options.version !== 'function') {
    invalid(`The version option must be a string or a function returning one, got ${typeof options.version}.`);
  }
  const workers = count('workers', options.workers, availableParallelism(), 1);
  const minWorkers = count('minWorkers', options.minWorkers, Math.ceil(workers / 2), 1);
  if (minWorkers > workers) invalid(`The minWorkers option (${minWorkers}) cannot exceed workers (${workers}).`);
  return {
    ...options,
    workers,
    minWorkers,
    args: options.args ?? [],
    execArgv: options.execArgv ?? process.execArgv,
    startTimeoutMs: ms('startTimeoutMs', options.startTimeoutMs, 30_000),
    heartbeatTimeoutMs: options.heartbeatTimeoutMs === undefined ? undefined : ms('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 0),
    stopTimeoutMs: ms('stopTimeoutMs', options.stopTimeoutMs, 40_000),
    backoffInitialMs: ms('backoffInitialMs', options.backoffInitialMs, 500),
    backoffMaxMs: ms('backoffMaxMs', options.backoffMaxMs, 30_000),
    stableMs: ms('stableMs', options.stableMs, 10_000),
    handleSignals: options.handleSignals ?? true,
    exit: options.exit ?? true,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    exitProcess: options.exitProcess ?? ((code) => process.exit(code)),
  };
}

import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import { listenFds } from '../activation.js';
import { barrier } from '../barrier.js';
import { defaultNotifier } from '../default-notifier.js';
import { parseWatchdog, systemdEnvironment } from '../env.js';
import { NotifyError } from '../errors.js';
import type { Notifier } from '../notifier.js';
import { ERRNO, FDNAME, READY, STATUS, STOPPING } from '../protocol.js';
import { installSignalHandlers } from '../lifecycle/signals.js';
import { startWatchdog, type Watchdog } from '../watchdog.js';
import { CrashBackoff } from './backoff.js';
import { WORKER_FDS, WORKER_MARKER } from './membership.js';
import { fdsOfSockets } from './messages.js';
import { checkClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './options.js';
import { clusterStatusLine, type ClusterSnapshot } from './status-line.js';
import { versionNear } from './version.js';
import { WorkerProcess, type WorkerExit } from './worker-process.js';

const ECHILD = 10;
/** Margin on top of a reload step's own timeouts when asking systemd for more time. */
const EXTEND_MARGIN_MS = 5000;

export interface ClusterWorkerInfo {
  pid: number;
  state: WorkerProcess['state'];
  version: string;
  retiring: boolean;
}

/**
 * The primary of a cluster under systemd. It alone speaks sd_notify: READY=1 once
 * every worker listens, STATUS= with the workers, the watchdog (pinged while
 * enough workers answer their heartbeats), RELOADING=1 → a rolling replacement →
 * READY=1 on SIGHUP, STOPPING=1 → every worker drained on SIGTERM.
 *
 * Events: 'ready', 'fork' (WorkerProcess), 'exit' (WorkerProcess, WorkerExit),
 * 'replaced' (old pid, reason), 'reloaded' (version), 'reloadFailed' (error),
 * 'failed' (error: it gave up and drains), 'drained' ({ clean }).
 */
export class Cluster extends EventEmitter {
  readonly notifier: Notifier;
  readonly watchdog: Watchdog | undefined;
  /** Resolves once every worker listened and READY=1 went out. */
  readonly ready: Promise<void>;
  private readonly options: ResolvedClusterOptions;
  private readonly members = new Set<WorkerProcess>();
  private readonly backoff: CrashBackoff;
  private readonly heartbeatTimeoutMs: number;
  private readonly sharedFds = listenFds();
  private phase: ClusterSnapshot['phase'] = 'starting';
  private currentVersion: string;
  private reloadProgress: ClusterSnapshot['reload'];
  private readonly notes = new Map<string, string>();
  /** `FDNAME\0inode` of the sockets stored for workers. */
  private readonly stored = new Set<string>();
  private lastStatus = '';
  private supervisor: NodeJS.Timeout | undefined;
  private pendingStart: NodeJS.Timeout | undefined;
  private removeSignalHandlers: (() => void) | undefined;
  private reloading: Promise<void> | undefined;
  private shuttingDown: Promise<boolean> | undefined;
  private markReady!: () => void;

  constructor(options: ClusterOptions) {
    super();
    if (!cluster.isPrimary) throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', 'runCluster() must run in the primary process, not in a cluster worker.');
    this.options = checkClusterOptions(options);
    this.notifier = this.options.notifier ?? defaultNotifier();
    const systemdWatchdog = parseWatchdog(systemdEnvironment());
    this.heartbeatTimeoutMs = this.options.heartbeatTimeoutMs ?? (systemdWatchdog ? Math.max(200, Math.floor(systemdWatchdog.timeoutMs / 2)) : 10_000);
    this.backoff = new CrashBackoff({ initialMs: this.options.backoffInitialMs, maxMs: this.options.backoffMaxMs, stableMs: this.options.stableMs });
    this.currentVersion = this.readVersion();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    // Each worker accepts on the shared socket itself. With round-robin the
    // primary accepts and hands connections over IPC, and one handed to a worker
    // that is stopping is lost (measured: resets during rolling reloads).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: resolvePath(this.options.worker), args: [...this.options.args], execArgv: [...this.options.execArgv] });
    if (this.options.handleSignals) {
      this.removeSignalHandlers = installSignalHandlers(['SIGTERM', 'SIGINT', 'SIGHUP'], (signal, otherListeners) => {
        if (signal === 'SIGHUP') void this.reload();
        else void this.stopBySignal(otherListeners === 0);
      });
    }
    this.watchdog = startWatchdog({ notifier: this.notifier, healthCheck: () => this.canPing(), onError: (error) => this.log(error.message) });
    this.supervisor = setInterval(() => this.supervise(), Math.max(50, Math.floor(this.heartbeatTimeoutMs / 4)));
    this.supervisor.unref();
    this.log(`cluster: starting ${this.options.workers} workers of ${this.options.worker} (version ${this.currentVersion})`);
    // After the caller attached its listeners: the first 'fork' events are theirs too.
    process.nextTick(() => this.ensureWorkers());
  }

  /** The workers as they are now. */
  get workers(): ClusterWorkerInfo[] {
    return [...this.members].map((m) => ({ pid: m.pid, state: m.state, version: m.version, retiring: m.retiring }));
  }

  get version(): string {
    return this.currentVersion;
  }

  /**
   * RELOADING=1, then for each worker in turn: fork one with the code on disk,
   * wait until it listens, drain the old one; READY=1. A new worker that fails
   * to start aborts the reload: the old ones keep serving and STATUS= says why.
   * A reload asked for while one runs joins it.
   */
  reload(): Promise<void> {
    if (this.phase !== 'ready' && this.phase !== 'reloading') return Promise.resolve();
    this.reloading ??= this.runReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Drains every worker in parallel; resolves true when all exited cleanly. Never exits the process. Idempotent. */
  shutdown(): Promise<boolean> {
    this.shuttingDown ??= this.runShutdown();
    return this.shuttingDown;
  }

  private async runReload(): Promise<void> {
    this.phase = 'reloading';
    const to = this.readVersion();
    const old = [...this.members].filter((m) => !m.retiring && m.state !== 'exited');
    this.reloadProgress = { to, replaced: 0 };
    await this.send(() => this.notifier.reloading(this.statusLine()));
    this.log(`cluster: reloading ${old.length} workers to version ${to}`);
    for (const previous of old) {
      if (this.phase !== 'reloading') return;
      await this.send(() => this.notifier.extendTimeout(this.options.startTimeoutMs + this.options.stopTimeoutMs + EXTEND_MARGIN_MS));
      const fresh = this.fork(to, true);
      try {
        await fresh.whenReady(this.options.startTimeoutMs);
      } catch (error) {
        void fresh.stop(this.options.stopTimeoutMs);
        // A stop that began meanwhile ended the reload; READY=1 now would be wrong.
        if (this.phase !== 'reloading') return;
        const why = `reload to ${to} failed: the new worker ${(error as Error).message}; still serving version ${this.currentVersion}`;
        this.log(`cluster: ${why}`);
        this.reloadProgress = undefined;
        this.phase = 'ready';
        this.notes.set('reload', why);
        await this.send(() => this.notifier.notify([[STATUS, this.statusLine()], [ERRNO, ECHILD], [READY, '1']]));
        this.emit('reloadFailed', new Error(why));
        return;
      }
      fresh.candidate = false;
      this.reloadProgress.replaced++;
      this.refreshStatus();
      await previous.stop(this.options.stopTimeoutMs);
    }
    if (this.phase !== 'reloading') return;
    this.currentVersion = to;
    this.reloadProgress = undefined;
    this.notes.delete('reload');
    this.phase = 'ready';
    this.log(`cluster: reloaded, ${old.length} workers now run version ${to}`);
    this.lastStatus = this.statusLine();
    await this.send(() => this.notifier.ready(this.lastStatus));
    this.emit('reloaded', to);
  }

  private async runShutdown(): Promise<boolean> {
    this.phase = 'stopping';
    clearTimeout(this.pendingStart);
    clearInterval(this.supervisor);
    const live = [...this.members].filter((m) => m.state !== 'exited');
    const stops = live.map((m) => m.stop(this.options.stopTimeoutMs));
    this.lastStatus = this.statusLine();
    await this.send(() => this.notifier.notify([[STOPPING, '1'], [STATUS, this.lastStatus]]));
    const exits = await Promise.all(stops);
    const unclean = exits.filter((exit) => !exit.clean).length;
    this.phase = 'drained';
    const line = unclean === 0 ? `drained (${live.length} workers)` : `drained: ${unclean} of ${live.length} workers did not exit cleanly`;
    this.log(`cluster: ${line}`);
    await this.send(() => this.notifier.status(line));
    try {
      await barrier(this.notifier, 1000);
    } catch {
      // systemd < 246 never answers; exiting matters more than the confirmation.
    }
    this.dispose();
    this.emit('drained', { clean: unclean === 0 });
    return unclean === 0;
  }

  private async stopBySignal(onlyListener: boolean): Promise<void> {
    if (this.shuttingDown) return;
    const clean = await this.shutdown();
    if (onlyListener && this.options.exit) this.options.exitProcess(clean ? 0 : 1);
  }

  /** Removes the signal handlers and timers. Workers are left alone. */
  dispose(): void {
    this.removeSignalHandlers?.();
    this.watchdog?.stop();
    clearInterval(this.supervisor);
    clearTimeout(this.pendingStart);
  }

  private fork(version: string, candidate = false): WorkerProcess {
    const env: Record<string, string> = {
      ...this.options.env,
      [WORKER_MARKER]: '1',
      [WORKER_FDS]: JSON.stringify(this.sharedFds),
      // The worker's own lifecycle watchdog pings at half of this: its heartbeat.
      WATCHDOG_USEC: String(this.heartbeatTimeoutMs * 1000),
    };
    const member = new WorkerProcess(cluster.fork(env), version);
    member.candidate = candidate;
    this.members.add(member);
    member.on('ready', () => this.onWorkerReady(member));
    member.on('unhealthy', (reason: string) => this.replace(member, reason));
    member.on('exit', (exit: WorkerExit) => this.onWorkerExit(member, exit));
    member.on('fdstore', (assignments: ReadonlyArray<readonly [string, string]>, inodes: number[]) => void this.storeFds(member, assignments, inodes));
    if (!candidate) {
      member.whenReady(this.options.startTimeoutMs).catch(() => {
        if (member.state !== 'starting') return;
        this.log(`cluster: worker ${member.pid} did not listen within ${this.options.startTimeoutMs} ms; stopping it`);
        void member.stop(this.options.stopTimeoutMs);
        member.retiring = false; // so that its exit counts as a crash
      });
    }
    this.emit('fork', member);
    this.refreshStatus();
    return member;
  }

  private onWorkerReady(member: WorkerProcess): void {
    this.log(`cluster: worker ${member.pid} (version ${member.version}) listens`);
    this.refreshStatus();
    if (this.phase === 'starting' && this.readyCount() >= this.options.workers) {
      this.phase = 'ready';
      this.lastStatus = this.statusLine();
      void this.send(() => this.notifier.ready(this.lastStatus)).then(() => {
        this.emit('ready');
        this.markReady();
      });
    }
  }

  private onWorkerExit(member: WorkerProcess, exit: WorkerExit): void {
    this.members.delete(member);
    const how = exit.signal ?? `code ${exit.code}`;
    this.emit('exit', member, exit);
    if (this.phase === 'stopping' || this.phase === 'drained') return this.refreshStatus();
    if (this.sharedFds.length > 0 && ![...this.members].some((m) => m.listened)) {
      // Node's cluster closes the primary's copy of a shared socket when the last
      // worker listening on it goes; a new worker could not listen on that fd.
      // systemd still holds the socket: a restart of the service gets it back.
      return this.fail(`the last worker listening on the passed sockets exited (${how}); restarting the service to get them back`);
    }
    if (member.retiring || member.candidate) {
      this.log(`cluster: worker ${member.pid} exited (${how})${member.candidate ? ' before it listened' : ''}`);
      return this.refreshStatus();
    }
    const delay = this.backoff.crashed(Date.now() - member.startedAt);
    this.log(`cluster: worker ${member.pid} exited unexpectedly (${how}); starting another${delay > 0 ? ` in ${delay} ms` : ''}`);
    this.notes.set('crash', '');
    clearTimeout(this.pendingStart);
    this.pendingStart = setTimeout(() => this.ensureWorkers(), delay);
    this.refreshStatus();
  }

  /** FDSTORE=1 from a worker: the primary stores its own copies of the same sockets. Each socket once per name. */
  private async storeFds(member: WorkerProcess, assignments: ReadonlyArray<readonly [string, string]>, inodes: number[]): Promise<void> {
    const name = assignments.find(([key]) => key === FDNAME)?.[1] ?? '';
    const fresh = inodes.filter((inode) => !this.stored.has(`${name}\0${inode}`));
    if (fresh.length === 0) return;
    const fds = fdsOfSockets(fresh);
    if (fds.some((fd) => fd === undefined)) {
      this.log(`cluster: worker ${member.pid} asked to store a socket the primary does not hold (FDNAME=${name}); not stored`);
      return;
    }
    for (const inode of fresh) this.stored.add(`${name}\0${inode}`);
    await this.send(() => this.notifier.notify(assignments, { fds: fds as number[] }));
  }

  /** Gives up: STATUS= says why, every worker drains, the process exits 1 (systemd's Restart= takes over). */
  private fail(reason: string): void {
    this.log(`cluster: ${reason}`);
    this.notes.set('fatal', reason);
    this.emit('failed', new Error(reason));
    void this.shutdown().then(() => {
      if (this.options.exit) this.options.exitProcess(1);
    });
  }

  /** Takes an unresponsive worker out of service: a replacement starts, then the old one drains (killed if it cannot). */
  private replace(member: WorkerProcess, reason: string): void {
    if (member.retiring || this.phase === 'stopping' || this.phase === 'drained') return;
    member.retiring = true;
    this.log(`cluster: worker ${member.pid} ${reason}; replacing it`);
    this.emit('replaced', member.pid, reason);
    this.ensureWorkers();
    const replacement = [...this.members].find((m) => m.state === 'starting' && !m.retiring);
    // Stop the old one once the new one listens: the shared sockets must always have a holder.
    const settled = replacement ? replacement.whenReady(this.options.startTimeoutMs).catch(() => undefined) : Promise.resolve();
    void settled.then(() => member.stop(this.heartbeatTimeoutMs, this.options.stopTimeoutMs));
    this.refreshStatus();
  }

  private ensureWorkers(): void {
    if (this.phase === 'stopping' || this.phase === 'drained') return;
    const active = [...this.members].filter((m) => !m.retiring && m.state !== 'exited').length;
    for (let i = active; i < this.options.workers; i++) this.fork(this.phase === 'reloading' ? this.currentVersion : this.readVersion());
  }

  private supervise(): void {
    const now = Date.now();
    for (const member of this.members) {
      if (member.state === 'ready' && !member.healthy(now, this.heartbeatTimeoutMs)) {
        this.replace(member, `sent no heartbeat for ${now - member.lastHeartbeat!} ms (stuck, or its health check fails)`);
      }
    }
    this.refreshStatus();
  }

  /** The watchdog's health check: systemd hears from us while enough workers answer. */
  private canPing(): boolean {
    if (this.phase === 'starting' || this.phase === 'stopping' || this.phase === 'drained') return true;
    const now = Date.now();
    return [...this.members].filter((m) => m.healthy(now, this.heartbeatTimeoutMs)).length >= this.options.minWorkers;
  }

  private readyCount(): number {
    return [...this.members].filter((m) => m.state === 'ready' && !m.retiring).length;
  }

  private statusLine(): string {
    const members = [...this.members];
    this.notes.set('crash', this.backoff.describe(Date.now()));
    return clusterStatusLine({
      phase: this.phase,
      workers: this.options.workers,
      ready: Math.min(this.options.workers, this.readyCount()),
      draining: members.filter((m) => m.state === 'draining' || (m.retiring && m.state !== 'exited')).length,
      version: this.currentVersion,
      ...(this.reloadProgress ? { reload: this.reloadProgress } : {}),
      notes: [...this.notes.values()],
    });
  }

  /** STATUS= when the line changed. */
  private refreshStatus(): void {
    if (this.phase === 'drained') return;
    const line = this.statusLine();
    if (line === this.lastStatus) return;
    this.lastStatus = line;
    void this.send(() => this.notifier.status(line));
  }

  private readVersion(): string {
    const { version, worker } = this.options;
    try {
      return typeof version === 'function' ? String(version()) : version ?? versionNear(worker);
    } catch (error) {
      return `unknown (${(error as Error).message})`;
    }
  }

  private async send(call: () => Promise<boolean>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.log(`cluster: notification failed: ${(error as Error).message}`);
    }
  }

  private log(line: string): void {
    this.options.log(line);
  }
}

/** Starts the primary of a cluster of `workers` processes running `worker`; see Cluster. */
export function runCluster(options: ClusterOptions): Cluster {
  return new Cluster(options);
}

import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { barrier } from '../barrier.js';
import { NotifyError } from '../errors.js';
import { defaultNotifier } from '../default-notifier.js';
import type { Notifier } from '../notifier.js';
import { STATUS, STOPPING } from '../protocol.js';
import { startWatchdog, type Watchdog, type WatchdogOptions } from '../watchdog.js';
import { drainServers, type DrainResult } from './drain.js';
import { serverFd, storeServer } from '../fdstore.js';
import type { ListenFallback, ListenTarget } from '../activation.js';
import { checkFdName } from '../fdname.js';
import { listenAsync, resolveListen, unixPathOf, whenListening } from './listen.js';
import { checkOptions, type LifecycleOptions, type ResolvedOptions } from './options.js';
import { ReloadRunner } from './reload.js';
import { ServerSet } from './servers.js';
import { installSignalHandlers, type LifecycleSignal } from './signals.js';
import { StatusReporter, formatCounts } from './status.js';
import { ExitPolicy } from './exit.js';
import { asError, createLog, type Log } from './log.js';
import { UnhealthyError, checkHealth } from '../watchdog.js';
import { reportNativeOnce } from '../native.js';
import { explainNotifyFailure, findWrapper } from '../diagnostics.js';
import { warnIfNotReady } from '../readiness.js';

/** The wrapper warning is about the process: once, however many lifecycles. */
let wrapperChecked = false;

/** How long past the grace period the close hook may take before the process exits anyway (after a signal). */
const CLOSE_ALLOWANCE_MS = 10_000;

export type LifecycleState = 'starting' | 'ready' | 'reloading' | 'draining' | 'drained';

/**
 * The life of an HTTP service under systemd, for any framework: READY=1 once
 * every attached server listens, SIGTERM/SIGINT -> drain -> STATUS=drained ->
 * exit, SIGHUP -> reload, the watchdog. Adapters translate framework hooks into
 * these calls and nothing else.
 *
 * Events: 'state' (state), 'ready', 'draining' (reason), 'drained' ({ forced }),
 * 'reloaded', 'reloadFailed' (error).
 */
export class Lifecycle extends EventEmitter {
  readonly notifier: Notifier;
  readonly watchdog: Watchdog | undefined;
  private currentState: LifecycleState = 'starting';
  private readonly options: ResolvedOptions;
  private readonly servers: ServerSet;
  private readonly status: StatusReporter;
  private readonly reloader: ReloadRunner | undefined;
  private removeSignalHandlers: (() => void) | undefined;
  private cancelReadyWarning: (() => void) | undefined;
  private draining: Promise<DrainResult> | undefined;
  private finishing: Promise<void> | undefined;
  private shuttingDown: Promise<void> | undefined;
  private wasForced = false;
  private readonly log: Log;
  private readonly exitPolicy: ExitPolicy;
  private readonly abort = new AbortController();
  /** When the lifecycle ends the process at the latest (backstop), once the stop began. */
  private deadline = 0;
  private delaying = false;

  constructor(options: LifecycleOptions = {}) {
    super();
    this.options = checkOptions(options);
    this.servers = new ServerSet(this.options.idleLingerMs, () => this.draining !== undefined);
    this.notifier = options.notifier ?? defaultNotifier();
    this.log = createLog(this.options.logger, this.options.onError);
    const report = reportNativeOnce(this.notifier.supervised, (error: Error): void => {
      const unusable = explainNotifyFailure(error);
      if (unusable) this.log('error', 'notify-socket-unusable', unusable, error);
      else this.log('error', 'notify-failed', `A notification to systemd failed: ${error.message}`, error);
    });
    this.exitPolicy = new ExitPolicy({ ...this.options, realExit: options.exitProcess === undefined }, this.log);
    this.status = new StatusReporter(this.notifier, report);
    if (this.options.reload) this.reloader = new ReloadRunner(this.notifier, this.options.reload, () => this.servers.describe(), report);
    if (this.options.handleSignals) {
      const signals: LifecycleSignal[] = this.reloader ? ['SIGTERM', 'SIGINT', 'SIGHUP'] : ['SIGTERM', 'SIGINT'];
      this.removeSignalHandlers = installSignalHandlers(signals, (signal, others) => this.onSignal(signal, others));
    }
    if (this.notifier.supervised) this.startupChecks();
    if (this.options.watchdog !== false) {
      const onError = (error: Error): void =>
        error instanceof UnhealthyError ? this.log('error', 'unhealthy', error.message, error) : report(error);
      const watchdogOptions: WatchdogOptions = { ...this.options.watchdog, notifier: this.notifier, onError };
      if (options.healthCheck) watchdogOptions.healthCheck = options.healthCheck;
      this.watchdog = startWatchdog(watchdogOptions);
    }
  }

  get state(): LifecycleState {
    return this.currentState;
  }

  /** True after the grace period ran out and connections were destroyed. */
  get forced(): boolean {
    return this.wasForced;
  }

  /**
   * Aborted when the stop begins (the shutdown delay, else the drain): end
   * long-lived responses (SSE, long polls) on it, so they finish inside the
   * grace period and the drain stays clean (exit 0).
   */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** True while the service should get traffic (ready or reloading); false while starting and from the stop on (shutdown delay included). */
  isAcceptingTraffic(): boolean {
    return this.currentState === 'ready' || this.currentState === 'reloading';
  }

  /**
   * For liveness probes: the watchdog's health check, run now (timeout:
   * watchdog.healthCheckTimeoutMs, default 5 s). 200 while it passes, even
   * during the drain (a draining process is alive); 503 with the reason.
   */
  async liveness(): Promise<{ statusCode: 200 | 503; reason?: string }> {
    const watchdog = this.options.watchdog === false ? {} : this.options.watchdog ?? {};
    const unhealthy = await checkHealth(this.options.healthCheck, watchdog.healthCheckTimeoutMs ?? 5000);
    return unhealthy ? { statusCode: 503, reason: unhealthy.reason } : { statusCode: 200 };
  }

  /** For readiness routes: 200 while accepting traffic, 503 otherwise, with the state as body. */
  readiness(): { statusCode: 200 | 503; state: LifecycleState } {
    return { statusCode: this.isAcceptingTraffic() ? 200 : 503, state: this.currentState };
  }

  /** Tracks the server's connections and requests; READY waits for it to listen. Idempotent. */
  addServer(server: Server): void {
    this.servers.add(server);
  }

  /**
   * Attaches the server and listens: on the socket systemd passed under
   * `fallback.fdName` (default: the `fdName` option, "http"; or the only one
   * passed) when there is one, else on the fallback port/host or path. With
   * `fdStore`, the listening socket is then stored in systemd under that name, so
   * that after a restart the same name finds it again. Rejects on EADDRINUSE and
   * the like.
   */
  async listen(server: Server, fallback: ListenFallback = {}): Promise<void> {
    this.addServer(server);
    await listenAsync(server, this.listenTarget(server, fallback));
    await this.storeListener(server, fallback.fdName);
  }

  /**
   * For a framework that must call its own listen() (Fastify): what to pass it,
   * chosen as listen() chooses (`{ fd }` of the passed socket, else the
   * fallback's port/host or path). STATUS= then says the socket was passed.
   */
  listenTarget(server: Server, fallback: ListenFallback = {}): ListenTarget {
    return resolveListen(server, { ...fallback, fdName: fallback.fdName ?? this.options.fdName });
  }

  /**
   * The path (or @abstract name) of the unix socket a server listens on, for a
   * socket received as an fd: Node's server.address() is null for it.
   */
  unixPath(server: Server): string | undefined {
    return unixPathOf(serverFd(server));
  }

  /**
   * With the `fdStore` option, stores the listening socket in systemd's fd store
   * under `name` (default "http"); a no-op otherwise. listen() calls it; adapters
   * whose framework listens itself call it once listening.
   */
  async storeListener(server: Server, name = this.options.fdName): Promise<void> {
    checkFdName(name, 'The fd name');
    if (this.options.fdStore) await this.status.send(() => storeServer(server, name, { notifier: this.notifier }));
  }

  /**
   * READY=1 once every attached server listens, with STATUS= saying where
   * (or `status`). Resolves without sending when the drain began first.
   */
  async ready(status?: string): Promise<void> {
    await Promise.all(this.servers.list.map((server) => whenListening(server)));
    if (this.currentState !== 'starting') return;
    const line = status ?? this.servers.describe();
    this.setState('ready');
    await this.status.send(() => this.notifier.ready(line));
    this.emit('ready');
  }

  /**
   * Runs the reload function given in the options: RELOADING=1 with
   * MONOTONIC_USEC, the function, READY=1. A failure is reported with STATUS= and
   * ERRNO= (and READY=1, so `systemctl reload` does not hang) and the service
   * keeps serving. Ignored while starting or draining.
   */
  async reload(): Promise<void> {
    if (!this.reloader) {
      throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', 'reload() needs a reload function: createLifecycle({ reload: async () => { ... } }).');
    }
    if (this.currentState !== 'ready' && this.currentState !== 'reloading') return;
    this.setState('reloading');
    try {
      const error = await this.reloader.run();
      this.emit(error ? 'reloadFailed' : 'reloaded', error);
    } finally {
      if (this.currentState === 'reloading') this.setState('ready');
    }
  }

  /**
   * Stops accepting and drains every attached server: STOPPING=1 + STATUS=draining
   * in one datagram, listeners closed, `Connection: close`, idle sockets closed
   * after the linger, the rest destroyed after the grace period. Idempotent.
   * Adapters whose framework closes the servers itself call this from its
   * pre-close hook.
   */
  drain(reason = 'shutdown'): Promise<DrainResult> {
    this.draining ??= this.runDrain(reason);
    return this.draining;
  }

  /** STATUS=drained and a barrier (a missing answer does not block); after the drain. Idempotent. */
  markDrained(): Promise<void> {
    this.finishing ??= this.runFinish();
    return this.finishing;
  }

  /**
   * The whole shutdown without a signal: drain, the `close` option (framework
   * close hooks), STATUS=drained. Never exits the process. Idempotent.
   */
  shutdown(reason = 'shutdown'): Promise<void> {
    this.shuttingDown ??= this.runShutdown(reason);
    return this.shuttingDown;
  }

  /** Removes signal handlers, stops the watchdog and the trackers. Open connections are left alone. */
  dispose(): void {
    this.cancelReadyWarning?.();
    this.removeSignalHandlers?.();
    this.removeSignalHandlers = undefined;
    this.watchdog?.stop();
    this.status.stop();
    this.servers.detach();
  }

  /** Fixes the deadline and starts STATUS=/EXTEND_TIMEOUT_USEC= for the whole stop, delay and close hook included. */
  private beginStop(delayMs: number): void {
    if (this.deadline !== 0) return;
    this.deadline = Date.now() + delayMs + this.options.gracePeriodMs + CLOSE_ALLOWANCE_MS;
    this.status.start(this.deadline, () => (this.delaying ? undefined : this.draining ? formatCounts(this.servers.counts()) : undefined));
  }

  /**
   * Under systemd: warn when READY=1 has not gone out 10 s after start-up
   * (Type=notify then fails at TimeoutStartSec=), and when npm or a shell sits
   * between systemd and node (READY=1 ignored under NotifyAccess=main).
   */
  private startupChecks(): void {
    this.cancelReadyWarning = warnIfNotReady({ notifier: this.notifier, warn: (message) => this.log('warn', 'not-ready', message) });
    if (wrapperChecked) return;
    wrapperChecked = true;
    const wrapper = findWrapper();
    if (wrapper) this.log('warn', 'wrapped-start', wrapper.message);
  }

  private async runShutdown(reason: string): Promise<void> {
    const delayMs = this.options.shutdownDelayMs;
    this.beginStop(delayMs);
    if (delayMs > 0 && !this.draining) await this.delay(delayMs, reason);
    const result = await this.drain(reason);
    if (this.options.close) {
      try {
        await this.options.close();
      } catch (error) {
        this.log('error', 'close-failed', `The close hook failed: ${asError(error).message}`, asError(error));
      }
    }
    await this.markDrained();
    this.log('info', 'drained', result.forced ? 'Drained (forced after the grace period).' : 'Drained.');
  }

  /** Readiness says draining and the listeners keep accepting, so that a load balancer sees the 503 before the port closes. */
  private async delay(delayMs: number, reason: string): Promise<void> {
    this.delaying = true;
    this.setState('draining');
    this.abort.abort();
    this.log('info', 'shutdown-delay', `Stopping (${reason}): still accepting for ${delayMs} ms while readiness answers 503, then draining.`);
    const line = `stopping: accepting for ${delayMs} ms more (shutdownDelayMs) before the drain`;
    this.status.sent(line);
    void this.status.send(() => this.notifier.notify([[STOPPING, '1'], [STATUS, line], this.status.extension()]));
    await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    this.delaying = false;
  }

  private async runDrain(reason: string): Promise<DrainResult> {
    this.setState('draining');
    this.emit('draining', reason);
    this.abort.abort();
    // The listeners close synchronously, before STOPPING=1 goes out: whoever
    // learns of the stop finds the port closed (or queued in systemd's socket).
    const drained = drainServers(this.servers.all, this.options.gracePeriodMs);
    const { connections, requests } = this.servers.counts();
    this.log('info', 'drain-started', `Draining (${reason}): listeners closed, ${connections} connections and ${requests} requests open, grace period ${this.options.gracePeriodMs} ms.`);
    this.beginStop(0);
    this.status.sent('draining');
    await this.status.send(() => this.notifier.notify([[STOPPING, '1'], [STATUS, 'draining'], this.status.extension()]));
    const result = await drained;
    if (result.forced) this.log('warn', 'drain-forced', `The grace period (${this.options.gracePeriodMs} ms) ran out: open connections were destroyed.`);
    this.wasForced = result.forced;
    return result;
  }

  private async runFinish(): Promise<void> {
    const result = await this.drain();
    this.status.stop();
    await this.status.send(() => this.notifier.status(result.forced ? 'drained (forced after the grace period)' : 'drained'));
    try {
      await barrier(this.notifier, this.options.barrierTimeoutMs);
    } catch {
      // systemd < 246 never answers; exiting matters more than the confirmation.
    }
    this.watchdog?.stop();
    this.setState('drained');
    this.emit('drained', result);
  }

  private onSignal(signal: LifecycleSignal, otherListeners: number): void {
    if (signal === 'SIGHUP') {
      void this.reload().catch((error: Error) => this.log('error', 'reload-failed', `Reload failed: ${error.message}`, error));
      return;
    }
    this.exitPolicy.onSignal(
      signal,
      otherListeners,
      () => this.shutdown(signal).then(() => ({ forced: this.wasForced })),
      () => this.deadline,
      () => this.dispose(),
    );
  }

  private setState(state: LifecycleState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }
}

/** A lifecycle for the servers you attach (addServer/listen), with signal handlers unless turned off. */
export function createLifecycle(options?: LifecycleOptions): Lifecycle {
  // The register entry's own lifecycle (created with `new Lifecycle`) steps aside
  // for one the app or an adapter creates: one READY=1, one watchdog, one drain.
  (globalThis as { [key: symbol]: { stepAside?: () => void } | undefined })[Symbol.for('node-systemd.register')]?.stepAside?.();
  return new Lifecycle(options);
}

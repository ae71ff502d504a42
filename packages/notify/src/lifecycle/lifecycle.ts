import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { barrier } from '../barrier.js';
import { NotifyError } from '../errors.js';
import { defaultNotifier } from '../default-notifier.js';
import type { Notifier } from '../notifier.js';
import { STATUS, STOPPING } from '../protocol.js';
import { startWatchdog, type Watchdog, type WatchdogOptions } from '../watchdog.js';
import { drainServers, type DrainResult } from './drain.js';
import { storeServer } from '../fdstore.js';
import type { ListenFallback } from '../activation.js';
import { listenAsync, resolveListen, whenListening } from './listen.js';
import { checkOptions, type LifecycleOptions, type ResolvedOptions } from './options.js';
import { ReloadRunner } from './reload.js';
import { ServerSet } from './servers.js';
import { installSignalHandlers, type LifecycleSignal } from './signals.js';
import { StatusReporter } from './status.js';
import { DEFAULT_FD_NAME } from '../defaults.js';
import { reportNativeOnce } from '../native.js';

/** After a signal, how long past the grace period the close hooks may take before the process exits anyway. */
const BACKSTOP_MS = 10_000;

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
  private draining: Promise<DrainResult> | undefined;
  private finishing: Promise<void> | undefined;
  private shuttingDown: Promise<void> | undefined;
  private wasForced = false;

  constructor(options: LifecycleOptions = {}) {
    super();
    this.options = checkOptions(options);
    this.servers = new ServerSet(this.options.idleLingerMs, () => this.draining !== undefined);
    this.notifier = options.notifier ?? defaultNotifier();
    const report = reportNativeOnce(this.notifier.supervised, (error) => this.options.onError(error));
    this.status = new StatusReporter(this.notifier, this.options, report);
    if (this.options.reload) this.reloader = new ReloadRunner(this.notifier, this.options.reload, () => this.servers.describe(), report);
    if (this.options.handleSignals) {
      const signals: LifecycleSignal[] = this.reloader ? ['SIGTERM', 'SIGINT', 'SIGHUP'] : ['SIGTERM', 'SIGINT'];
      this.removeSignalHandlers = installSignalHandlers(signals, (signal, onlyListener) => this.onSignal(signal, onlyListener));
    }
    if (this.options.watchdog !== false) {
      const watchdogOptions: WatchdogOptions = { ...this.options.watchdog, notifier: this.notifier, onError: report };
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

  /** True while the service should get traffic (ready or reloading); false while starting and from the drain on. */
  isAcceptingTraffic(): boolean {
    return this.currentState === 'ready' || this.currentState === 'reloading';
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
   * `fallback.name` (or the only one passed) when there is one, else on the
   * fallback port/host or path. With `fdStore`, the listening socket is then
   * stored in systemd under that name (default "http"), so that after a restart
   * the same name finds it again. Rejects on EADDRINUSE and the like.
   */
  async listen(server: Server, fallback: ListenFallback = {}): Promise<void> {
    this.addServer(server);
    await listenAsync(server, resolveListen(server, fallback));
    await this.storeListener(server, fallback.name);
  }

  /**
   * With the `fdStore` option, stores the listening socket in systemd's fd store
   * under `name` (default "http"); a no-op otherwise. listen() calls it; adapters
   * whose framework listens itself call it once listening.
   */
  async storeListener(server: Server, name = DEFAULT_FD_NAME): Promise<void> {
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
    this.removeSignalHandlers?.();
    this.removeSignalHandlers = undefined;
    this.watchdog?.stop();
    this.status.stop();
    this.servers.detach();
  }

  private async runShutdown(reason: string): Promise<void> {
    await this.drain(reason);
    if (this.options.close) {
      try {
        await this.options.close();
      } catch (error) {
        this.options.onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
    await this.markDrained();
  }

  private async runDrain(reason: string): Promise<DrainResult> {
    this.setState('draining');
    this.emit('draining', reason);
    // The listeners close synchronously, before STOPPING=1 goes out: whoever
    // learns of the stop finds the port closed (or queued in systemd's socket).
    const drained = drainServers(this.servers.all, this.options.gracePeriodMs);
    this.status.startDraining(() => this.servers.counts());
    await this.status.send(() => this.notifier.notify([[STOPPING, '1'], [STATUS, 'draining']]));
    const result = await drained;
    this.status.stop();
    this.wasForced = result.forced;
    return result;
  }

  private async runFinish(): Promise<void> {
    const result = await this.drain();
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

  private onSignal(signal: LifecycleSignal, onlyListener: boolean): void {
    if (signal === 'SIGHUP') {
      void this.reload().catch((error: Error) => this.options.onError(error));
      return;
    }
    // A second SIGTERM finds the shutdown running and changes nothing.
    if (this.shuttingDown) return;
    const exit = onlyListener && this.options.exit ? this.options.exitProcess : undefined;
    // The grace period bounds the servers; this bounds the app's own close hooks.
    const backstop = exit ? setTimeout(() => exit(this.options.forcedExitCode), this.options.gracePeriodMs + BACKSTOP_MS) : undefined;
    void this.shutdown(signal).then(() => {
      clearTimeout(backstop);
      this.dispose();
      exit?.(this.wasForced ? this.options.forcedExitCode : 0);
    });
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

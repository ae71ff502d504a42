import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { NotifyError } from './errors.js';
import { parseWatchdog, systemdEnvironment, type WatchdogSettings } from './env.js';
import type { Notifier } from './notifier.js';
import { defaultNotifier } from './default-notifier.js';
import { DEFAULT_WATCHDOG_FRACTION } from './defaults.js';

/**
 * Pings the service manager's watchdog (WatchdogSec=) while the service is
 * healthy. A ping proves more than "the process exists": it is withheld when the
 * app's health check fails, throws or hangs, and while the event loop lags, so
 * systemd restarts a service that is up but useless.
 */
export interface WatchdogOptions {
  /** Where to send pings. Default: the process-wide notifier. */
  notifier?: Notifier;
  /** The timeout to honour. Default: WATCHDOG_USEC / WATCHDOG_PID of this process. */
  settings?: WatchdogSettings;
  /** Ping every `fraction` of the timeout; sd_watchdog_enabled(3) advises half. */
  fraction?: number;
  /**
   * Whether the service can do its job. Healthy when it returns or resolves to
   * anything but `false` (so `async () => { await db.ping(); }` works); `false`,
   * a throw and a timeout are unhealthy.
   */
  healthCheck?: () => unknown;
  /** How long a health check may take before it counts as failed. Default: a quarter of the timeout. */
  healthCheckTimeoutMs?: number;
  /** On a failed check: withhold the ping (`skip`, default) or send WATCHDOG=trigger at once. */
  onUnhealthy?: 'skip' | 'trigger';
  /** Withhold pings while the event loop lags beyond this: its delay (p99 over the last interval), or how late the ping's own timer fired. */
  eventLoop?: { maxDelayMs: number } | false;
  /**
   * Send failures and unhealthy checks (with the reason), each kind reported at
   * most once a minute while it lasts; default process.emitWarning.
   */
  onError?: (error: Error) => void;
}

export type SkipReason = 'unhealthy' | 'health-check-threw' | 'health-check-timeout' | 'event-loop-lag';

/** An unhealthy outcome is reported again after this long while it lasts (journal noise vs. silence). */
const REPORT_EVERY_MS = 60_000;

/** What onError gets for a withheld ping: `reason` says why. */
export class UnhealthyError extends Error {
  override name = 'UnhealthyError';
  constructor(readonly reason: SkipReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface Watchdog extends EventEmitter {
  /** False when no watchdog applies to this process; then nothing runs. */
  readonly enabled: boolean;
  /** Time between pings in ms, when enabled. */
  readonly intervalMs: number | undefined;
  stop(): void;
}

class WatchdogTimer extends EventEmitter implements Watchdog {
  readonly enabled: boolean;
  readonly intervalMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private histogram: IntervalHistogram | undefined;
  private checking = false;
  private stopped = false;
  private checkTimeoutMs = 0;
  private lastTickAt = 0n;
  private lastReported: { reason: SkipReason; at: number } | undefined;

  constructor(private readonly notifier: Notifier | undefined, settings: WatchdogSettings | undefined, private readonly options: WatchdogOptions) {
    super();
    const fraction = options.fraction ?? DEFAULT_WATCHDOG_FRACTION;
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
      throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Watchdog fraction must be between 0 and 1 (exclusive), got ${String(fraction)}.`);
    }
    if (options.onUnhealthy !== undefined && options.onUnhealthy !== 'skip' && options.onUnhealthy !== 'trigger') {
      throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Watchdog onUnhealthy must be "skip" or "trigger", got ${JSON.stringify(options.onUnhealthy)}.`);
    }
    if (options.healthCheck !== undefined && typeof options.healthCheck !== 'function') {
      throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', 'Watchdog healthCheck must be a function (healthy unless it returns or resolves to false).');
    }
    const maxDelay = options.eventLoop ? options.eventLoop.maxDelayMs : undefined;
    if (maxDelay !== undefined && !(typeof maxDelay === 'number' && maxDelay > 0)) {
      throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `Watchdog eventLoop.maxDelayMs must be a positive number, got ${String(maxDelay)}.`);
    }
    // WATCHDOG_USEC without NOTIFY_SOCKET: nobody to ping, so no timer either.
    this.enabled = settings !== undefined && notifier !== undefined && notifier.supervised;
    this.intervalMs = settings ? Math.max(1, Math.floor(settings.timeoutMs * fraction)) : undefined;
    if (!this.enabled) return;
    if (maxDelay !== undefined) {
      this.histogram = monitorEventLoopDelay({ resolution: 10 });
      this.histogram.enable();
    }
    const timeoutMs = settings!.timeoutMs;
    this.checkTimeoutMs = options.healthCheckTimeoutMs ?? Math.max(1, Math.floor(timeoutMs / 4));
    // Ping once at start: the first interval may already be most of the budget.
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
  }

  private async tick(): Promise<void> {
    // How late this tick fired. A block that spans the tick never reaches the
    // histogram: reset() also forgets the time of the last sample, so the first
    // delay after a reset is dropped.
    const now = process.hrtime.bigint();
    const lateMs = this.lastTickAt === 0n ? 0 : Number(now - this.lastTickAt) / 1e6 - this.intervalMs!;
    this.lastTickAt = now;
    // A check still running from the last tick has its own timeout; don't stack them.
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const unhealthy = this.eventLoopLag(lateMs) ?? (await this.runHealthCheck());
      if (this.stopped) return;
      if (unhealthy === undefined) {
        this.lastReported = undefined;
        await this.notifier!.watchdogPing();
        this.emit('ping');
        return;
      }
      this.emit('skip', unhealthy.reason);
      this.reportUnhealthy(unhealthy);
      if (this.options.onUnhealthy === 'trigger') {
        await this.notifier!.watchdogTrigger();
        this.emit('trigger', unhealthy.reason);
      }
    } catch (error) {
      this.report(error as Error);
    } finally {
      this.checking = false;
    }
  }

  private eventLoopLag(lateMs: number): UnhealthyError | undefined {
    if (!this.histogram || !this.options.eventLoop) return undefined;
    const p99Ms = this.histogram.percentile(99) / 1e6;
    this.histogram.reset();
    const lagMs = Math.max(p99Ms, lateMs);
    if (lagMs <= this.options.eventLoop.maxDelayMs) return undefined;
    return new UnhealthyError('event-loop-lag', `Watchdog ping withheld: the event loop lagged ${Math.round(lagMs)} ms (eventLoop.maxDelayMs is ${this.options.eventLoop.maxDelayMs}).`);
  }

  /** Once per kind of failure, and again every minute while it lasts. */
  private reportUnhealthy(error: UnhealthyError): void {
    const now = Date.now();
    const last = this.lastReported;
    if (last && last.reason === error.reason && now - last.at < REPORT_EVERY_MS) return;
    this.lastReported = { reason: error.reason, at: now };
    this.report(error);
  }

  private runHealthCheck(): Promise<UnhealthyError | undefined> {
    return checkHealth(this.options.healthCheck, this.checkTimeoutMs);
  }

  private report(error: Error): void {
    if (this.options.onError) this.options.onError(error);
    else process.emitWarning(error.message, { code: 'NODE_SYSTEMD_WATCHDOG' });
  }
}

/**
 * Runs a health check once: undefined when healthy (anything but `false`), else
 * why not (false, a throw, no answer within `timeoutMs`). Shared by the watchdog
 * and the liveness probe, so both judge alike.
 */
export async function checkHealth(check: (() => unknown) | undefined, timeoutMs: number): Promise<UnhealthyError | undefined> {
  if (!check) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  try {
    const result = await Promise.race([Promise.resolve().then(check), timeout]);
    if (result === 'timeout') {
      return new UnhealthyError('health-check-timeout', `Watchdog ping withheld: the health check did not answer within ${timeoutMs} ms.`);
    }
    return result === false ? new UnhealthyError('unhealthy', 'Watchdog ping withheld: the health check returned false.') : undefined;
  } catch (error) {
    return new UnhealthyError('health-check-threw', `Watchdog ping withheld: the health check threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts pinging when a watchdog applies to this process (WATCHDOG_USEC set and
 * WATCHDOG_PID unset or ours); otherwise returns a disabled handle and starts no
 * timer. The timer is unref()ed: it never keeps the process alive.
 *
 * Events: 'ping'; 'skip' (reason); 'trigger' (reason).
 */
export function startWatchdog(options: WatchdogOptions = {}): Watchdog {
  const settings = options.settings ?? parseWatchdog(systemdEnvironment());
  const notifier = options.notifier ?? (settings ? defaultNotifier() : undefined);
  return new WatchdogTimer(notifier, settings, options);
}

import type { Log } from './log.js';
import type { LifecycleSignal } from './signals.js';

/** With another listener on the signal, how long after the drain the lifecycle lets it finish before exiting. */
export const SHARED_EXIT_DELAY_MS = 5000;

export interface ExitPolicyOptions {
  exit: 'auto' | 'always' | false;
  forcedExitCode: number;
  gracePeriodMs: number;
  exitProcess: (code: number) => void;
  /** True when exitProcess is process.exit: a natural end then reports the code through process.exitCode. */
  realExit: boolean;
}

/**
 * From a stop signal to the end of the process. Every path ends in an exit, or
 * in the app's explicit choice (exit: false):
 * - the drain's result decides the code: 0, or forcedExitCode after a forced drain;
 * - the backstop exits with forcedExitCode when the drain plus the close hook
 *   outlive the lifecycle's deadline (a hung close hook, a pool that never closes);
 * - a second SIGINT (Ctrl-C twice), or a SIGTERM once the grace period is over,
 *   exits at once with forcedExitCode; a signal after the drain finished exits
 *   with the drain's code (NestJS re-raises the signal once its own hooks ran);
 * - another listener on the signal: warn once, and in 'auto' give it
 *   SHARED_EXIT_DELAY_MS after the drain (an unref'd timer: the process may end
 *   sooner by itself).
 */
export class ExitPolicy {
  private startedAt: number | undefined;
  private doneCode: number | undefined;
  private backstop: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ExitPolicyOptions,
    private readonly log: Log,
  ) {}

  /** A stop signal arrived. `stop` runs the whole shutdown; `deadline()` is when the backstop fires. */
  onSignal(signal: LifecycleSignal, otherListeners: number, stop: () => Promise<{ forced: boolean }>, deadline: () => number, cleanup: () => void): void {
    const { exit } = this.options;
    if (this.startedAt !== undefined) return this.onRepeat(signal);
    this.startedAt = Date.now();
    const shared = otherListeners > 0;
    if (shared && exit === 'auto') {
      this.log(
        'warn',
        'signal-shared',
        `${signal} has ${otherListeners} other listener(s) besides the node-systemd lifecycle (an APM agent, NestJS enableShutdownHooks(), a log flusher...). ` +
          `The lifecycle drains, then exits ${SHARED_EXIT_DELAY_MS / 1000} s after the drain unless the process ends sooner. ` +
          `Choose explicitly with createLifecycle({ exit: 'always' }) (exit right after the drain) or { exit: false } (your handler exits).`,
      );
    }
    const promise = stop();
    if (exit === false) return;
    // Armed after stop() started, which fixed the deadline.
    this.backstop = setTimeout(() => this.force('the drain and the close hook did not finish before the deadline'), Math.max(0, deadline() - Date.now()));
    void promise.then(({ forced }) => {
      clearTimeout(this.backstop);
      const code = forced ? this.options.forcedExitCode : 0;
      this.doneCode = code;
      if (exit === 'always' || !shared) {
        cleanup();
        return this.options.exitProcess(code);
      }
      // The handlers stay: a signal from now on exits with this code at once.
      if (this.options.realExit && code !== 0) process.exitCode = code;
      setTimeout(() => this.options.exitProcess(code), SHARED_EXIT_DELAY_MS).unref();
    });
  }

  private onRepeat(signal: LifecycleSignal): void {
    if (this.options.exit === false) return;
    if (this.doneCode !== undefined) return this.options.exitProcess(this.doneCode);
    if (signal === 'SIGINT') return this.force('a second SIGINT');
    if (signal === 'SIGTERM' && Date.now() - this.startedAt! >= this.options.gracePeriodMs) return this.force('SIGTERM after the grace period');
    // A repeated SIGTERM within the grace period (systemd's KillMode=, a
    // supervisor's retry) changes nothing.
  }

  private force(why: string): void {
    clearTimeout(this.backstop);
    this.log('warn', 'exit-forced', `Exiting with code ${this.options.forcedExitCode} without finishing the drain: ${why}.`);
    this.options.exitProcess(this.options.forcedExitCode);
  }
}

/**
 * Rate-limits restarts of workers that keep crashing. A crash of a worker that
 * ran for at least `stableMs` starts a new count; each further crash in a row
 * doubles the delay before the next start, from `initialMs` up to `maxMs`.
 */
export class CrashBackoff {
  /** Crashes in a row (each within `stableMs` of its start). */
  consecutive = 0;
  /** When the next start is due, while one is being held back. */
  nextStartAt: number | undefined;
  private lastCrashAt = 0;

  constructor(private readonly options: { initialMs: number; maxMs: number; stableMs: number }) {}

  /** Records a crash of a worker that ran `livedMs`; returns how long to wait before starting another. */
  crashed(livedMs: number): number {
    this.consecutive = livedMs >= this.options.stableMs ? 1 : this.consecutive + 1;
    this.lastCrashAt = Date.now();
    const delay = this.consecutive <= 1 ? 0 : Math.min(this.options.maxMs, this.options.initialMs * 2 ** (this.consecutive - 2));
    this.nextStartAt = delay > 0 ? Date.now() + delay : undefined;
    return delay;
  }

  /** For STATUS=: empty while nothing crashes. */
  describe(now: number): string {
    // Quiet once the workers started after the last crash have stayed up.
    if (this.consecutive < 2 || now - Math.max(this.lastCrashAt, this.nextStartAt ?? 0) > this.options.stableMs) return '';
    const wait = this.nextStartAt === undefined ? '' : `, next start in ${Math.max(0, Math.ceil((this.nextStartAt - now) / 1000))} s`;
    return `workers crash-looping (${this.consecutive} crashes in a row${wait})`;
  }
}

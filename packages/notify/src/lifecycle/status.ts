import type { Notifier } from '../notifier.js';
import { EXTEND_TIMEOUT_USEC, STATUS, type FieldValue } from '../protocol.js';

/** Asked for beyond the library's own deadline, so that systemd's stop timeout never fires first. */
const EXTEND_MARGIN_MS = 5000;
/** STATUS= and EXTEND_TIMEOUT_USEC= while stopping, at most this often (systemctl status needs no more). */
const TICK_MS = 1000;

export interface Counts {
  connections: number;
  requests: number;
}

/**
 * The stop's progress for systemd, from the first signal to STATUS=drained:
 * STATUS= (draining (N connections, M requests)) at most once a second and only
 * when it changed, and EXTEND_TIMEOUT_USEC= every second reaching past the
 * lifecycle's own deadline (grace period plus the close allowance), whatever
 * TimeoutStopSec= says. (A unit whose deadline is later anyway is not shortened:
 * systemd only ever extends.) Notification failures go to `report`; they never
 * hold up the drain.
 */
export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private deadline = 0;

  constructor(
    private readonly notifier: Notifier,
    private readonly report: (error: Error) => void,
  ) {}

  /** Sends without throwing: a failed notification is reported, not fatal. */
  async send(call: () => Promise<boolean>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** `line()` gives the current STATUS= (undefined: leave it); `deadline` is when the lifecycle ends the process at the latest. */
  start(deadline: number, line: () => string | undefined): void {
    if (this.timer || !this.notifier.supervised) return;
    this.deadline = deadline;
    const tick = (): void => {
      const fields: Array<[string, FieldValue]> = [];
      const status = line();
      if (status !== undefined && status !== this.last) fields.push([STATUS, status]);
      if (status !== undefined) this.last = status;
      void this.send(() => this.notifier.notify([...fields, this.extension()]));
    };
    this.timer = setInterval(tick, TICK_MS);
    this.timer.unref();
  }

  /**
   * EXTEND_TIMEOUT_USEC= up to the deadline plus the margin. The stop's first
   * datagram carries it too: TimeoutStopSec= may be shorter than the first tick.
   */
  extension(): [string, FieldValue] {
    return [EXTEND_TIMEOUT_USEC, BigInt(Math.max(0, this.deadline - Date.now()) + EXTEND_MARGIN_MS) * 1000n];
  }

  /** Remembers a STATUS= sent elsewhere, so that the next tick does not repeat it. */
  sent(status: string): void {
    this.last = status;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function formatCounts(counts: Counts): string {
  return `draining (${counts.connections} connections, ${counts.requests} requests)`;
}

import type { Notifier } from '../notifier.js';
import { EXTEND_TIMEOUT_USEC, STATUS, type FieldValue } from '../protocol.js';

/** Margin asked for on top of the remaining grace period, for the final messages and the exit. */
const EXTEND_MARGIN_MS = 5000;
/** STATUS= while draining is updated at most this often (systemctl status needs no more). */
const TICK_MS = 1000;

export interface Counts {
  connections: number;
  requests: number;
}

/**
 * The drain's progress for systemd: STATUS=draining (N connections, M requests)
 * at most once a second and only when it changed, and EXTEND_TIMEOUT_USEC= while
 * the grace period reaches past the unit's stop timeout. Notification failures go
 * to `report`; they never hold up the drain.
 */
export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private deadline = 0;

  constructor(
    private readonly notifier: Notifier,
    private readonly options: { gracePeriodMs: number; stopTimeoutMs: number },
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

  startDraining(counts: () => Counts): void {
    // The first datagram said just "draining"; the first tick adds the counts.
    this.last = 'draining';
    this.deadline = Date.now() + this.options.gracePeriodMs;
    const tick = (): void => {
      const fields: Array<[string, FieldValue]> = [];
      const line = format(counts());
      if (line !== this.last) fields.push([STATUS, line]);
      this.last = line;
      const extend = this.extension();
      if (extend !== undefined) fields.push([EXTEND_TIMEOUT_USEC, BigInt(extend) * 1000n]);
      if (fields.length > 0) void this.send(() => this.notifier.notify(fields));
    };
    if (this.needsExtension()) setImmediate(tick);
    this.timer = setInterval(tick, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private needsExtension(): boolean {
    return this.options.gracePeriodMs + EXTEND_MARGIN_MS > this.options.stopTimeoutMs;
  }

  /** ms to ask for: systemd waits that long for the next message before its stop timeout applies again. */
  private extension(): number | undefined {
    if (!this.needsExtension()) return undefined;
    return Math.max(0, this.deadline - Date.now()) + EXTEND_MARGIN_MS;
  }
}

function format(counts: Counts): string {
  return `draining (${counts.connections} connections, ${counts.requests} requests)`;
}

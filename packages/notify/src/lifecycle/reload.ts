import { constants } from 'node:os';
import type { Notifier } from '../notifier.js';
import { ERRNO, READY, STATUS } from '../protocol.js';

const EIO = 5;

/**
 * One reload: RELOADING=1 with MONOTONIC_USEC (Type=notify-reload, v253+, needs
 * it), the app's function, READY=1. A failure keeps the service serving with the
 * old configuration; it is reported as STATUS= + ERRNO=, together with READY=1 so
 * that `systemctl reload` returns instead of waiting for its timeout.
 */
export class ReloadRunner {
  private running: Promise<Error | undefined> | undefined;

  constructor(
    private readonly notifier: Notifier,
    private readonly reload: () => unknown,
    private readonly statusLine: () => string,
    private readonly report: (error: Error) => void,
  ) {}

  /** Resolves with the reload's error, or undefined. A reload asked for while one runs joins it. */
  run(): Promise<Error | undefined> {
    this.running ??= this.once().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async once(): Promise<Error | undefined> {
    await this.send(() => this.notifier.reloading());
    try {
      await this.reload();
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      await this.send(() => this.notifier.notify([[STATUS, `reload failed: ${oneLine(error.message)}`], [ERRNO, errnoOf(error)], [READY, '1']]));
      return error;
    }
    await this.send(() => this.notifier.ready(this.statusLine()));
    return undefined;
  }

  private async send(call: () => Promise<boolean>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.report(error as Error);
    }
  }
}

/** STATUS= is one line; an error message may have many, and may be long. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** The error's errno as a positive number (Node gives -2 for ENOENT), else EIO. */
function errnoOf(error: Error): number {
  const { errno, code } = error as NodeJS.ErrnoException;
  if (typeof errno === 'number' && Number.isInteger(errno) && errno !== 0) return Math.abs(errno);
  const known = typeof code === 'string' ? (constants.errno as Record<string, number | undefined>)[code] : undefined;
  return known ?? EIO;
}

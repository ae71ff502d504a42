import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import { READY, STOPPING, WATCHDOG } from '../protocol.js';
import { isWorkerNotification } from './messages.js';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** Exit 0, or death by SIGTERM/SIGINT, without being killed by the primary. */
  clean: boolean;
}

/**
 * One worker as the primary sees it: its state from what its lifecycle reports
 * (READY=1 → ready, STOPPING=1 → draining), its last heartbeat (WATCHDOG=1, sent
 * only while its health check passes and its event loop turns), its exit.
 *
 * Events: 'ready', 'draining', 'unhealthy' (reason), 'exit' (WorkerExit), 'fdstore' (assignments, socket inodes).
 */
export class WorkerProcess extends EventEmitter {
  state: WorkerState = 'starting';
  /** Taken out of service: replaced, or on its way out. Not counted, not replaced again. */
  retiring = false;
  /** A reload's new worker until it listens: its failure aborts the reload, it is not a crash. */
  candidate = false;
  /** It reached READY=1, so it holds the shared listening sockets until it exits. */
  listened = false;
  readonly startedAt = Date.now();
  lastHeartbeat: number | undefined;
  readonly exited: Promise<WorkerExit>;
  private killedByUs = false;
  private stopping: Promise<WorkerExit> | undefined;

  constructor(
    readonly worker: Worker,
    readonly version: string,
  ) {
    super();
    worker.on('message', (message: unknown) => {
      if (!isWorkerNotification(message)) return;
      this.receive(message.assignments);
      if (message.inodes) this.emit('fdstore', message.assignments, message.inodes);
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code: number | null, signal: string | null) => {
        this.state = 'exited';
        const clean = !this.killedByUs && (code === 0 || signal === 'SIGTERM' || signal === 'SIGINT');
        const exit = { code, signal, clean };
        this.emit('exit', exit);
        resolve(exit);
      });
    });
  }

  get pid(): number {
    return this.worker.process.pid ?? 0;
  }

  /** Ready and answering: heartbeats (if it sends any) no older than `timeoutMs`. */
  healthy(now: number, timeoutMs: number): boolean {
    return this.state === 'ready' && !this.retiring && (this.lastHeartbeat === undefined || now - this.lastHeartbeat <= timeoutMs);
  }

  /** Resolves once the worker listens (READY=1); rejects when it exits first or takes longer than `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`did not listen within ${timeoutMs} ms`)), timeoutMs);
      const onReady = (): void => done();
      const onExit = (exit: WorkerExit): void => done(new Error(`exited with ${exit.signal ?? `code ${exit.code}`} before it listened`));
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.off('ready', onReady);
        this.off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      this.on('ready', onReady);
      this.on('exit', onExit);
    });
  }

  /**
   * SIGTERM (its lifecycle drains and exits), SIGKILL after `killAfterMs`; once
   * the worker says it drains (STOPPING=1) it has `drainingKillAfterMs` from
   * then: a worker slow to answer heartbeats but draining keeps its requests.
   * Idempotent.
   */
  stop(killAfterMs: number, drainingKillAfterMs = killAfterMs): Promise<WorkerExit> {
    this.retiring = true;
    this.stopping ??= this.runStop(killAfterMs, drainingKillAfterMs);
    return this.stopping;
  }

  private async runStop(killAfterMs: number, drainingKillAfterMs: number): Promise<WorkerExit> {
    if (this.state === 'exited') return this.exited;
    this.signal('SIGTERM');
    const kill = (): void => {
      this.killedByUs = true;
      this.signal('SIGKILL');
    };
    let timer = setTimeout(kill, this.state === 'draining' ? drainingKillAfterMs : killAfterMs);
    const onDraining = (): void => {
      clearTimeout(timer);
      timer = setTimeout(kill, drainingKillAfterMs);
    };
    this.once('draining', onDraining);
    const exit = await this.exited;
    clearTimeout(timer);
    this.off('draining', onDraining);
    return exit;
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.worker.process.kill(signal);
    } catch {
      // Already gone: its 'exit' follows.
    }
  }

  private receive(assignments: ReadonlyArray<readonly [string, string]>): void {
    for (const [key, value] of assignments) {
      if (key === WATCHDOG && value === '1') this.lastHeartbeat = Date.now();
      else if (key === WATCHDOG && value === 'trigger') this.emit('unhealthy', 'its watchdog was triggered');
      else if (key === STOPPING && value === '1' && this.state !== 'exited' && this.state !== 'draining') {
        this.state = 'draining';
        this.emit('draining');
      }
      else if (key === READY && value === '1' && this.state === 'starting') {
        this.state = 'ready';
        this.listened = true;
        this.emit('ready');
      }
    }
  }
}

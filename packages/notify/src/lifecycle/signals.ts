/** The signals the lifecycle reacts to: SIGTERM and SIGINT drain, SIGHUP reloads. */
export type LifecycleSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/** Called with the signal and how many other listeners it had when it arrived. */
export type SignalHandler = (signal: LifecycleSignal, otherListeners: number) => void;

/**
 * Installs persistent handlers, never once-handlers: after a once-handler ran,
 * a second SIGTERM would get Node's default action (immediate death) and cut
 * the drain short. They go first in line (prependListener): another listener
 * may remove itself when it runs (NestJS's shutdown hooks do), and would then
 * be missing from the count. Returns a function that removes exactly these
 * handlers, so that repeated lifecycles (tests) leak no listeners.
 */
export function installSignalHandlers(signals: readonly LifecycleSignal[], handler: SignalHandler): () => void {
  const installed = signals.map((signal) => {
    const listener = (): void => handler(signal, process.listenerCount(signal) - 1);
    process.prependListener(signal, listener);
    return [signal, listener] as const;
  });
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}

/** The signals the lifecycle reacts to: SIGTERM and SIGINT drain, SIGHUP reloads. */
export type LifecycleSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/**
 * Called with the signal and whether our handler was the only listener for it
 * when it arrived: only then may the library end the process (another listener
 * means the app has its own plans for that signal).
 */
export type SignalHandler = (signal: LifecycleSignal, onlyListener: boolean) => void;

/**
 * Installs handlers with process.on, never process.once: after a once-handler
 * ran, a second SIGTERM would get Node's default action and kill the drain
 * (FACTS.md §3). Returns a function that removes exactly these handlers, so that
 * repeated lifecycles (tests) leak no listeners.
 */
export function installSignalHandlers(signals: readonly LifecycleSignal[], handler: SignalHandler): () => void {
  const installed = signals.map((signal) => {
    const listener = (): void => handler(signal, process.listenerCount(signal) === 1);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}

/**
 * What a worker's notifier sends its primary over the cluster IPC channel: the
 * assignments of one sd_notify message, already validated by the worker.
 */
export const MESSAGE_TAG = 'node-systemd:notify';

export interface WorkerNotification {
  readonly type: typeof MESSAGE_TAG;
  readonly assignments: ReadonlyArray<readonly [string, string]>;
}

export function isWorkerNotification(message: unknown): message is WorkerNotification {
  const candidate = message as Partial<WorkerNotification> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.type === MESSAGE_TAG &&
    Array.isArray(candidate.assignments) &&
    candidate.assignments.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string')
  );
}

/** What the primary knows, as STATUS= shows it. */
export interface ClusterSnapshot {
  phase: 'starting' | 'ready' | 'reloading' | 'stopping' | 'drained';
  workers: number;
  ready: number;
  draining: number;
  version: string;
  /** During a reload: the version rolling in and how many workers run it. */
  reload?: { to: string; replaced: number };
  /** Replacements, crash loops, the last failure: each a short clause. */
  notes: readonly string[];
}

/**
 * One line for `systemctl status`:
 *   2/2 workers ready, version 1.4.0
 *   reloading to 1.5.0: 1/2 workers replaced, 1 draining, version 1.4.0
 *   1/2 workers ready, version 1.4.0; workers crash-looping (3 crashes in a row, next start in 2 s)
 */
export function clusterStatusLine(s: ClusterSnapshot): string {
  let line: string;
  if (s.phase === 'stopping') line = `stopping: ${s.draining} of ${s.workers} workers draining`;
  else if (s.phase === 'drained') line = 'drained';
  else {
    const counts = `${s.ready}/${s.workers} workers ready${s.draining > 0 ? `, ${s.draining} draining` : ''}, version ${s.version}`;
    line = s.reload ? `reloading to ${s.reload.to}: ${s.reload.replaced}/${s.workers} workers replaced; ${counts}` : s.phase === 'starting' ? `starting: ${counts}` : counts;
  }
  return [line, ...s.notes.filter((note) => note !== '')].join('; ');
}

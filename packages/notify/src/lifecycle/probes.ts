import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotifyError } from '../errors.js';

/** Where the probes answer; `true` picks the Kubernetes conventions. */
export interface ProbePaths {
  /** 200 while ready, 503 while starting, during the shutdown delay and the drain. Default "/readyz". */
  readinessPath?: string | false;
  /** 200 while the health check passes (the watchdog's), 503 with the reason otherwise. Default "/livez". */
  livenessPath?: string | false;
}

export interface ProbeAnswer {
  statusCode: 200 | 503;
  body: string;
}

/** What the probes need of a lifecycle. */
export interface Probed {
  readiness(): { statusCode: 200 | 503; state: string };
  liveness(): Promise<{ statusCode: 200 | 503; reason?: string }>;
}

export interface ResolvedProbePaths {
  readinessPath: string | undefined;
  livenessPath: string | undefined;
}

/** Checks the paths once, for every adapter; `true` or `{}` gives /readyz and /livez. */
export function resolveProbePaths(options: boolean | ProbePaths | undefined): ResolvedProbePaths {
  if (options === undefined || options === false) return { readinessPath: undefined, livenessPath: undefined };
  const paths = options === true ? {} : options;
  if (paths === null || typeof paths !== 'object') {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The probes option must be true or { readinessPath?, livenessPath? }, got ${String(options)}.`);
  }
  const path = (name: keyof ProbePaths, fallback: string): string | undefined => {
    const value = paths[name];
    if (value === false) return undefined;
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !value.startsWith('/')) {
      throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The ${name} option must be a path starting with "/" or false, got ${JSON.stringify(value)}.`);
    }
    return value;
  };
  return { readinessPath: path('readinessPath', '/readyz'), livenessPath: path('livenessPath', '/livez') };
}

const WHY: Record<string, string> = {
  unhealthy: 'the health check returned false',
  'health-check-threw': 'the health check threw',
  'health-check-timeout': 'the health check timed out',
};

/** The answer for `path`, or undefined when it is not a probe path. */
export async function answerProbe(lifecycle: Probed, paths: ResolvedProbePaths, path: string): Promise<ProbeAnswer | undefined> {
  if (path === paths.readinessPath) {
    const { statusCode, state } = lifecycle.readiness();
    return { statusCode, body: state };
  }
  if (path === paths.livenessPath) {
    const { statusCode, reason } = await lifecycle.liveness();
    return { statusCode, body: reason === undefined ? 'ok' : `unhealthy: ${WHY[reason] ?? reason}` };
  }
  return undefined;
}

/**
 * A node:http handler for the probes: returns true when it answered the
 * request, false to let the app handle it.
 *   createServer((req, res) => probes(req, res) || app(req, res))
 */
export function probeHandler(lifecycle: Probed, options: boolean | ProbePaths = true): (req: IncomingMessage, res: ServerResponse) => boolean {
  const paths = resolveProbePaths(options);
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path !== paths.readinessPath && path !== paths.livenessPath) return false;
    void answerProbe(lifecycle, paths, path).then((answer) => writeProbe(res, answer!));
    return true;
  };
}

export function writeProbe(res: ServerResponse, answer: ProbeAnswer): void {
  res.statusCode = answer.statusCode;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(answer.body);
}

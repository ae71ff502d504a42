import type { RequestListener } from 'node:http';
import { NotifyError, probeHandler, serveHttp, type Lifecycle, type ProbePaths, type Served, type ServeOptions } from '@node-systemd/notify';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The options of serve(): where to listen, and the lifecycle's options (grace period, reload, health check, ...). */
export type ExpressServeOptions = ServeOptions;

/**
 * Listens with an Express 4 or 5 app the systemd way and attaches the lifecycle:
 * the socket-activated fd named `fdName` (default "http") when systemd passed
 * one, else `port`/`host` (default 3000); READY=1 once listening; SIGTERM drains
 * and exits. Replaces `app.listen()`.
 */
export function serve(app: RequestListener, options: ExpressServeOptions = {}): Served {
  if (typeof app !== 'function') {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `serve() needs an Express app (a request handler function), got ${typeof app}.`);
  }
  return serveHttp(app, options);
}

export interface DrainMiddlewareOptions {
  /** Answer this path with 200 while ready and 503 while starting or draining (for load balancers). */
  readinessPath?: string;
}

type Next = (error?: unknown) => void;
interface Req {
  path: string;
}
interface Res {
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  statusCode: number;
  end(body: string): unknown;
}

/**
 * Says `Connection: close` on every response while draining (for servers the
 * lifecycle does not track itself, such as one behind a proxy layer), and
 * answers `readinessPath` with the lifecycle's readiness.
 */
export function drainMiddleware(lifecycle: Lifecycle, options: DrainMiddlewareOptions = {}): (req: Req, res: Res, next: Next) => void {
  const { readinessPath } = options;
  if (readinessPath !== undefined && (typeof readinessPath !== 'string' || !readinessPath.startsWith('/'))) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The readinessPath option must be a path starting with "/", got ${JSON.stringify(readinessPath)}.`);
  }
  return (req, res, next) => {
    const { statusCode, state } = lifecycle.readiness();
    if ((state === 'draining' || state === 'drained') && !res.headersSent) res.setHeader('Connection', 'close');
    if (readinessPath === undefined || req.path !== readinessPath) return next();
    res.statusCode = statusCode;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(state);
  };
}

/**
 * Answers readiness (200 while ready, 503 from SIGTERM on, shutdown delay
 * included) and liveness (the watchdog's health check) probes: `true` for
 * /readyz and /livez, or the paths. Put it first: `app.use(probes(lifecycle))`.
 */
export function probes(lifecycle: Lifecycle, paths: boolean | ProbePaths = true): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const answer = probeHandler(lifecycle, paths);
  return (req, res, next) => {
    if (!answer(req, res)) next();
  };
}

import type { RequestListener } from 'node:http';
import { NotifyError, probeHandler, serveHttp, type Lifecycle, type ProbePaths, type Served, type ServeOptions } from '@node-systemd/notify';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The options of serve(): where to listen, and the lifecycle's options (grace period, reload, health check, ...). */
export type KoaServeOptions = ServeOptions;

/** What serve() needs of a Koa 2 or 3 app. */
export interface KoaLike {
  callback(): RequestListener;
}

/**
 * Listens with a Koa 2 or 3 app the systemd way and attaches the lifecycle: the
 * socket-activated fd named `fdName` (default "http") when systemd passed one,
 * else `port`/`host` (default 3000); READY=1 once listening; SIGTERM drains and
 * exits. Replaces `app.listen()`.
 */
export function serve(app: KoaLike, options: KoaServeOptions = {}): Served {
  if (app === null || typeof app !== 'object' || typeof app.callback !== 'function') {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `serve() needs a Koa app (an object with callback()), got ${app === null ? 'null' : typeof app}.`);
  }
  return serveHttp(app.callback(), options);
}

/** What probes() needs of Koa's context. */
interface ProbeContext {
  req: IncomingMessage;
  res: ServerResponse;
  respond?: boolean;
}

/**
 * Koa middleware answering readiness (200 while ready, 503 from SIGTERM on,
 * shutdown delay included) and liveness (the watchdog's health check) probes:
 * `true` for /readyz and /livez, or the paths. Put it first:
 * `app.use(probes(lifecycle))`.
 */
export function probes(lifecycle: Lifecycle, paths: boolean | ProbePaths = true): (ctx: ProbeContext, next: () => Promise<unknown>) => Promise<unknown> {
  const answer = probeHandler(lifecycle, paths);
  return async (ctx, next) => {
    if (!answer(ctx.req, ctx.res)) return next();
    // Answered on the raw response: Koa must not write it again.
    ctx.respond = false;
    return undefined;
  };
}

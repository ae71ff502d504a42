import { createServer, type RequestListener, type Server } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { SecureServerOptions } from 'node:http2';
import { NotifyError } from '../errors.js';
import { checkFdName } from '../fdname.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import type { ListenFallback } from '../activation.js';
import type { LifecycleOptions } from './options.js';
import { probeHandler, type ProbePaths } from './probes.js';

export interface ServeOptions extends LifecycleOptions {
  /** Port when systemd passed no socket. Default 3000. */
  port?: number;
  /** Host when systemd passed no socket. Default: Node's (every address). */
  host?: string;
  /** A unix socket path to bind instead of a port when systemd passed no socket. */
  path?: string;
  /** Attach to this lifecycle instead of creating one (the lifecycle options are then ignored). */
  lifecycle?: Lifecycle;
  /** Answer readiness and liveness probes before the app: true for /readyz and /livez, or the paths. Default off. */
  probes?: boolean | ProbePaths;
  /** Serve HTTPS: the options of https.createServer() (key, cert, ...). */
  https?: HttpsServerOptions;
  /** Serve HTTP/2 over TLS: the options of http2.createSecureServer(); allowHTTP1 defaults to true (HTTP/1 clients, and the compat API the frameworks use). */
  http2?: SecureServerOptions;
}

export interface Served {
  /** The server (node:http, or https/http2 with those options), returned before it listens (attach what you need now). */
  server: Server;
  lifecycle: Lifecycle;
  /** Resolves after READY=1; rejects when the server cannot listen (EADDRINUSE, ...). */
  ready: Promise<void>;
}

/**
 * What the Express and Koa adapters share: a node:http server for the handler,
 * listening once on the socket systemd passed under `fdName` (no second bind),
 * else on port/host or path, attached to the lifecycle, READY=1 when listening.
 */
export function serveHttp(handler: RequestListener, options: ServeOptions = {}): Served {
  const { port, host, path, lifecycle: given, probes, https, http2, ...lifecycleOptions } = options;
  const { fdName } = options;
  if (https !== undefined && http2 !== undefined) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', 'Give either the https or the http2 option, not both.');
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The port option must be an integer from 0 to 65535, got ${String(port)}.`);
  }
  // A new lifecycle checks every option, fdName included; an attached one was made without this fdName.
  if (given && fdName !== undefined) checkFdName(fdName);
  const lifecycle = given ?? createLifecycle(lifecycleOptions);
  const answer = probes ? probeHandler(lifecycle, probes) : undefined;
  const listener: RequestListener = answer ? (req, res) => answer(req, res) || handler(req, res) : handler;
  const server = createFor(listener, https, http2);
  const fallback: ListenFallback = path === undefined ? { port: port ?? 3000 } : { path };
  if (host !== undefined) fallback.host = host;
  if (fdName !== undefined) fallback.fdName = fdName;
  const ready = lifecycle.listen(server, fallback).then(() => lifecycle.ready());
  return { server, lifecycle, ready };
}

/**
 * node:http, or https/http2 with their options. Those are required only when
 * asked for: loading node:tls costs every service about 17 ms of start-up.
 */
function createFor(listener: RequestListener, https: HttpsServerOptions | undefined, http2: SecureServerOptions | undefined): Server {
  if (https) return (require('node:https') as typeof import('node:https')).createServer(https, listener) as unknown as Server;
  if (http2) {
    const { createSecureServer } = require('node:http2') as typeof import('node:http2');
    return createSecureServer({ allowHTTP1: true, ...http2 }, listener as never) as unknown as Server;
  }
  return createServer(listener);
}

import { createServer, type RequestListener, type Server } from 'node:http';
import { NotifyError } from '../errors.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import type { ListenFallback } from '../activation.js';
import { DEFAULT_FD_NAME } from '../defaults.js';
import type { LifecycleOptions } from './options.js';
import { probeHandler, type ProbePaths } from './probes.js';

export interface ServeOptions extends LifecycleOptions {
  /** Port when systemd passed no socket. Default 3000. */
  port?: number;
  /** Host when systemd passed no socket. Default: Node's (every address). */
  host?: string;
  /** A unix socket path to bind instead of a port when systemd passed no socket. */
  path?: string;
  /** The FileDescriptorName= of the passed socket to listen on. Default "http". */
  fdName?: string;
  /** Attach to this lifecycle instead of creating one (the lifecycle options are then ignored). */
  lifecycle?: Lifecycle;
  /** Answer readiness and liveness probes before the app: true for /readyz and /livez, or the paths. Default off. */
  probes?: boolean | ProbePaths;
}

export interface Served {
  /** The node:http server, returned before it listens (attach what you need now). */
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
  const { port, host, path, fdName, lifecycle: given, probes, ...lifecycleOptions } = options;
  if (fdName !== undefined && (typeof fdName !== 'string' || fdName === '')) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The fdName option must be a non-empty string (a FileDescriptorName=), got ${JSON.stringify(fdName)}.`);
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `The port option must be an integer from 0 to 65535, got ${String(port)}.`);
  }
  const lifecycle = given ?? createLifecycle(lifecycleOptions);
  const answer = probes ? probeHandler(lifecycle, probes) : undefined;
  const server = createServer(answer ? (req, res) => answer(req, res) || handler(req, res) : handler);
  const fallback: ListenFallback = path === undefined ? { port: port ?? 3000, name: fdName ?? DEFAULT_FD_NAME } : { path, name: fdName ?? DEFAULT_FD_NAME };
  if (host !== undefined) fallback.host = host;
  const ready = lifecycle.listen(server, fallback).then(() => lifecycle.ready());
  return { server, lifecycle, ready };
}

import type { FastifyInstance, FastifyListenOptions, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Server } from 'node:net';
import {
  NotifyError,
  adoptPassedSocket,
  createLifecycle,
  probeHandler,
  type Lifecycle,
  type LifecycleLogger,
  type LifecycleOptions,
  type LifecycleState,
  type Notifier,
  type NotifyFields,
  type ProbePaths,
} from '@node-systemd/notify';

export interface SystemdPluginOptions extends Omit<LifecycleOptions, 'close'> {
  /** Attach to this lifecycle instead of creating one (the other lifecycle options are then ignored). */
  lifecycle?: Lifecycle;
  /** Readiness and liveness routes: true for GET /readyz and /livez, or the paths. Default off. */
  probes?: boolean | ProbePaths;
}

/** Where `app.systemd.listen()` goes when systemd passed no socket named `fdName`. */
export interface SystemdListenFallback {
  port?: number;
  host?: string;
  path?: string;
  /** An inherited listening fd to use instead (Fastify's own listen options have no typed `fd`). */
  fd?: number;
}

/** `app.systemd` */
export interface FastifySystemd {
  readonly lifecycle: Lifecycle;
  readonly notifier: Notifier;
  /** starting, ready, reloading, draining, drained */
  readonly state: LifecycleState;
  /** Aborted when the stop begins: end SSE streams and long polls on it. */
  readonly signal: AbortSignal;
  /** True while ready (or reloading): false while starting and from the drain on. */
  isAcceptingTraffic(): boolean;
  /** Listens on the socket-activated fd named `fdName` when present, else on the fallback. Resolves with the address. */
  listen(fallback?: SystemdListenFallback): Promise<string>;
  notify(fields: NotifyFields): Promise<boolean>;
  status(text: string): Promise<boolean>;
  errno(code: number): Promise<boolean>;
  extendTimeout(ms: number): Promise<boolean>;
  /** The whole shutdown (drain, fastify.close(), STATUS=drained) without a signal; never exits. */
  shutdown(reason?: string): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    systemd: FastifySystemd;
  }
}

function checkOptions(options: SystemdPluginOptions): void {
  if (options.lifecycle !== undefined && typeof (options.lifecycle as { drain?: unknown } | null)?.drain !== 'function') {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', 'The lifecycle option must be a Lifecycle made by createLifecycle().');
  }
}

/**
 * Listens on a passed fd. Two Fastify quirks are kept away: with host
 * "localhost" (its default) it would bind a second socket, so another host is
 * named (Node ignores the host when given an fd); and it logs the address,
 * which Node reports as null for a unix-socket fd, so while listening the address
 * falls back to the socket's path.
 */
async function listenOnFd(app: FastifyInstance, lifecycle: Lifecycle, fd: number): Promise<string> {
  const server = app.server;
  const original = Object.getOwnPropertyDescriptor(server, 'address');
  const address = server.address;
  server.address = function patched(this: typeof server) {
    return address.call(this) ?? lifecycle.unixPath(server) ?? `fd ${fd}`;
  };
  try {
    return await app.listen({ fd, host: '0.0.0.0' } as FastifyListenOptions);
  } finally {
    if (original) Object.defineProperty(server, 'address', original);
    else delete (server as { address?: unknown }).address;
  }
}

/** app.log in the lifecycle's logger shape: pino takes the fields first. */
function fastifyLogger(app: FastifyInstance): LifecycleLogger {
  return {
    info: (message, fields) => app.log.info(fields ?? {}, message),
    warn: (message, fields) => app.log.warn(fields ?? {}, message),
    error: (message, fields) => app.log.error(fields ?? {}, message),
  };
}

/**
 * The servers Fastify listens on besides app.server (one per further address
 * of the host). Fastify keeps them in an internal array (4.x and 5.x); none
 * when it is missing.
 */
function secondaryServers(app: FastifyInstance): Server[] {
  for (let target: object | null = app; target; target = Object.getPrototypeOf(target)) {
    const key = Object.getOwnPropertySymbols(target).find((symbol) => symbol.description === 'fastify.serverBindings');
    const servers = key ? (target as Record<symbol, unknown>)[key] : undefined;
    if (Array.isArray(servers)) return servers.filter((server): server is Server => typeof (server as Server | null)?.close === 'function');
  }
  return [];
}

const plugin: FastifyPluginAsync<SystemdPluginOptions> = async (app, options) => {
  checkOptions(options);
  // fdName is a lifecycle option, checked by createLifecycle(); an attached lifecycle gets it with each call.
  const { lifecycle: given, probes, ...lifecycleOptions } = options;
  const fdName = given ? options.fdName : undefined;
  let closeStarted = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  // A signal drains first and then closes Fastify: its routes answer 503 once
  // close() began (return503OnClosing), so requests that still arrive on open
  // keep-alive connections during the drain are served by the app instead.
  const closeApp = async (): Promise<void> => {
    // Already closing (the app called close()): wait for our onClose hook.
    if (closeStarted) return closed;
    // A failing onClose hook rejects here; the lifecycle reports it and goes on.
    await app.close();
  };
  // Fastify's own logger, when it is on, gets the lifecycle's messages.
  const logger = lifecycleOptions.logger ?? (app.log.level !== undefined && app.log.level !== 'silent' ? fastifyLogger(app) : undefined);
  const lifecycle = given ?? createLifecycle({ ...lifecycleOptions, ...(logger ? { logger } : {}), close: closeApp });
  lifecycle.addServer(app.server);
  // The habit `await app.listen({ port, host })` takes the socket systemd passed
  // for that address, as app.systemd.listen() does, instead of failing on EADDRINUSE.
  adoptPassedSocket(app.server);

  app.addHook('onListen', async () => {
    // Without a host (or with "localhost") Fastify also listens on a server per
    // further address (IPv4 and IPv6): each is drained like the main one.
    for (const server of secondaryServers(app)) lifecycle.addServer(server);
    await lifecycle.storeListener(app.server, fdName);
    await lifecycle.ready();
  });
  // preClose: the server still listens and requests are in flight. Waiting for
  // the drain here is what keeps fastify.close() from waiting out
  // keepAliveTimeout (fastify #7044) or destroying in-flight requests.
  app.addHook('preClose', async () => {
    closeStarted = true;
    await lifecycle.drain('fastify.close()');
  });
  app.addHook('onClose', async () => {
    closeStarted = true;
    await lifecycle.markDrained();
    if (!given) lifecycle.dispose();
    markClosed();
  });

  if (probes) {
    const answer = probeHandler(lifecycle, probes);
    const paths = probes === true ? {} : probes;
    for (const path of [paths.readinessPath ?? '/readyz', paths.livenessPath ?? '/livez']) {
      if (path === false) continue;
      // Answered on the raw response by the core, the same on every framework.
      app.get(path, { logLevel: 'warn' }, (request, reply) => {
        reply.hijack();
        answer(request.raw, reply.raw);
      });
    }
  }

  const notifier = lifecycle.notifier;
  const systemd: FastifySystemd = {
    lifecycle,
    notifier,
    get state() {
      return lifecycle.state;
    },
    get signal() {
      return lifecycle.signal;
    },
    isAcceptingTraffic: () => lifecycle.isAcceptingTraffic(),
    async listen(fallback = {}) {
      const { fd, ...rest } = fallback;
      if (fd !== undefined && (!Number.isInteger(fd) || fd < 0)) {
        throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `app.systemd.listen() needs fd to be a non-negative integer, got ${String(fd)}.`);
      }
      const target = fd === undefined ? lifecycle.listenTarget(app.server, fdName === undefined ? rest : { ...rest, fdName }) : { fd };
      return 'fd' in target ? listenOnFd(app, lifecycle, target.fd) : app.listen(target);
    },
    notify: (fields) => notifier.notify(fields),
    status: (text) => notifier.status(text),
    errno: (code) => notifier.errno(code),
    extendTimeout: (ms) => notifier.extendTimeout(ms),
    shutdown: (reason) => lifecycle.shutdown(reason),
  };
  app.decorate('systemd', systemd);
};

/** The plugin: `await app.register(systemd, options)`. */
export const systemd = fp(plugin, { fastify: '>=4.23.0 <6', name: '@node-systemd/fastify' });

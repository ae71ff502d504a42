import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import { BACK_TO_BACK_LINGERS, closeSession, lingerThenClose, markClose, type SocketState } from './linger.js';

/** True for servers made by http2.createServer / createSecureServer. */
export function isHttp2Server(server: Server): boolean {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

// Per request the tracker stores two properties on the response and adds one
// shared 'close' listener: no closure, no Set, no once() wrapper on the hot path.
const kTracker = Symbol('node-systemd.tracker');
const kState = Symbol('node-systemd.socketState');
type TrackedResponse = ServerResponse & { [kTracker]?: ConnectionTracker; [kState]?: SocketState };

function onResponseClose(this: TrackedResponse): void {
  const tracker = this[kTracker];
  const state = this[kState];
  if (tracker && state) tracker.responseClosed(this, state);
}

/**
 * Connection and request bookkeeping for one server, and the per-socket half of
 * the drain. Why not Node's closeIdleConnections(): a busy keep-alive client's
 * socket is idle only for an instant between two requests, and destroying it
 * then races with the next request already on the wire (FACTS.md §3: 40 lost of
 * 52 000). So while draining, a request that arrives on an existing socket is
 * served with `Connection: close`, and a socket is closed only after it stayed
 * idle for the linger.
 */
export class ConnectionTracker {
  readonly server: Server;
  private readonly sockets = new Map<Socket, SocketState>();
  /** HTTP/2 streams have no socket of their own: their responses are counted here. */
  private readonly streams = new Set<Http2ServerResponse>();
  private readonly sessions = new Set<Http2Session>();
  private readonly lingerMs: number;
  private readonly http2: boolean;
  private draining = false;
  private readonly connectionEvent: 'connection' | 'secureConnection';

  constructor(server: Server, lingerMs: number) {
    this.server = server;
    this.lingerMs = lingerMs;
    this.http2 = isHttp2Server(server);
    // For TLS the request's socket is the TLSSocket, not the raw TCP one.
    this.connectionEvent = isTlsServer(server) ? 'secureConnection' : 'connection';
    server.on(this.connectionEvent, this.onConnection);
    // First in line: the app's handler may answer synchronously, and by then it
    // is too late to say Connection: close.
    server.prependListener('request', this.onRequest);
    if (this.http2) server.on('session', this.onSession);
  }

  get connectionCount(): number {
    return this.sockets.size + this.sessions.size;
  }

  get requestCount(): number {
    let requests = this.streams.size;
    for (const state of this.sockets.values()) requests += state.requests;
    return requests;
  }

  /** Stops tracking (dispose); open sockets are left alone. */
  detach(): void {
    this.server.off(this.connectionEvent, this.onConnection);
    this.server.off('request', this.onRequest);
    this.server.off('session', this.onSession);
    for (const state of this.sockets.values()) clearTimeout(state.lingerTimer);
  }

  /**
   * From now on every response says `Connection: close` if it still can, and
   * every socket is closed once it has been idle for the linger. HTTP/2 sessions
   * get GOAWAY (session.close()): their open streams still complete.
   */
  startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    for (const state of this.sockets.values()) {
      if (state.current) markClose(state.current);
      if (state.requests === 0) lingerThenClose(state, this.lingerMs);
    }
    for (const session of this.sessions) closeSession(session);
  }

  /** The grace period is over: whatever is still open is destroyed. */
  destroyAll(): void {
    for (const socket of this.sockets.keys()) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }

  /** A response closed (finished or aborted). */
  responseClosed(response: ServerResponse, state: SocketState): void {
    state.requests--;
    if (state.current === response) state.current = undefined;
    state.served = true;
    state.idleSince = Date.now();
    // A response whose headers went out before the drain said keep-alive: the
    // socket must still be ended, after the linger, not at keepAliveTimeout.
    if (this.draining && state.requests === 0) lingerThenClose(state, this.lingerMs);
  }

  private readonly onConnection = (socket: Socket): void => {
    // An HTTP/2 connection belongs to its session, which gets GOAWAY instead.
    if (this.http2 && (this.connectionEvent === 'connection' || (socket as { alpnProtocol?: unknown }).alpnProtocol === 'h2')) return;
    const state = this.track(socket);
    // Accepted before the listener closed: it gets the same linger as the others.
    if (this.draining) lingerThenClose(state, this.lingerMs);
  };

  /** Also reached from a request whose connection predates addServer(). */
  private track(socket: Socket): SocketState {
    const known = this.sockets.get(socket);
    if (known) return known;
    const state: SocketState = { socket, requests: 0, current: undefined, idleSince: Date.now(), lingerTimer: undefined, slowestReplyMs: 0, served: false };
    this.sockets.set(socket, state);
    socket.once('close', () => {
      clearTimeout(state.lingerTimer);
      this.sockets.delete(socket);
    });
    return state;
  }

  private readonly onSession = (session: Http2Session): void => {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    if (this.draining) closeSession(session);
  };

  private readonly onRequest = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): void => {
    if (request.httpVersionMajor === 2) {
      const stream = response as Http2ServerResponse;
      this.streams.add(stream);
      stream.once('close', () => this.streams.delete(stream));
      return;
    }
    const state = this.track(request.socket as Socket);
    if (state.requests === 0) {
      const gap = Date.now() - state.idleSince;
      if (state.served && gap <= BACK_TO_BACK_LINGERS * this.lingerMs && gap > state.slowestReplyMs) state.slowestReplyMs = gap;
    }
    state.requests++;
    state.current = response as ServerResponse;
    if (state.lingerTimer) {
      clearTimeout(state.lingerTimer);
      state.lingerTimer = undefined;
    }
    if (this.draining) markClose(response);
    const tracked = response as TrackedResponse;
    tracked[kTracker] = this;
    tracked[kState] = state;
    tracked.on('close', onResponseClose);
  };
}

/**
 * https and secure HTTP/2 servers are tls.Server instances. Checked by shape, not
 * instanceof, so that importing the lifecycle does not load node:tls (about 17 ms
 * and 3.5 MB of start-up, for every service, TLS or not).
 */
function isTlsServer(server: object): boolean {
  return typeof (server as { addContext?: unknown }).addContext === 'function';
}

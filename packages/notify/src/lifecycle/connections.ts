import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import { closeSession, isLast, lingerThenClose, markClose, unmarkClose, upgraded, type SocketState } from './linger.js';

/** True for servers made by http2.createServer / createSecureServer. */
export function isHttp2Server(server: Server): boolean {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/** What Node keeps per HTTP/1 connection and the drain reads (internal, stable since Node 18). */
type HttpSocket = Socket & {
  parser?: { incoming: IncomingMessage | null; onIncoming: ((req: IncomingMessage, keepAlive: boolean) => number) | null } | null;
  _httpMessage?: (ServerResponse & { req?: IncomingMessage }) | null;
};
const kState = Symbol('node-systemd.drainState');
type DrainedResponse = ServerResponse & { [kState]?: SocketState };

/** A response on a draining socket finished: Node's own 'finish' handler ran first, so the socket now carries the next response, or none. */
function onResponseFinish(this: DrainedResponse): void {
  const state = this[kState];
  if (state && !upgraded(state.socket)) state.tracker.settle(state);
}

/** Node's own list of a server's HTTP/1 connections (what closeIdleConnections() reads). */
type ConnectionsList = { all(): Array<{ socket?: Socket | null }> };

/**
 * The per-socket half of the drain, for one server. Nothing runs per request
 * while serving: sockets are known per connection, and at drain time Node's own
 * state tells which carry a response (`socket._httpMessage`) and which request
 * came last (`socket.parser.incoming`).
 *
 * Why not Node's closeIdleConnections(): a busy keep-alive client's socket is
 * idle only for an instant between two requests, and destroying it then races
 * with the next request already on the wire (measured: 40 lost of 52 000). So
 * while draining, the last response on each connection says
 * `Connection: close`, and a socket is closed only after it stayed idle for the
 * linger. With pipelining only the last response says close: a request queued
 * behind a response that already said close is never dispatched to the app
 * (Node would run it and then drop its answer with the socket).
 */
export class ConnectionTracker {
  readonly server: Server;
  private readonly sockets = new Set<HttpSocket>();
  private readonly sessions = new Set<Http2Session>();
  private readonly states = new Map<HttpSocket, SocketState>();
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
    if (this.http2) server.on('session', this.onSession);
  }

  get connectionCount(): number {
    return this.sockets.size + this.sessions.size;
  }

  /** Connections with a response in flight (HTTP/2 streams are not counted). */
  get requestCount(): number {
    let requests = 0;
    for (const socket of this.sockets) if (socket._httpMessage) requests++;
    return requests;
  }

  /** Stops tracking (dispose); open sockets are left alone. */
  detach(): void {
    this.server.off(this.connectionEvent, this.onConnection);
    this.server.off('request', this.onRequest);
    this.server.off('session', this.onSession);
    for (const state of this.states.values()) clearTimeout(state.lingerTimer);
  }

  /**
   * From now on the last response on each connection says `Connection: close`
   * if it still can, and every socket is closed once it has been idle for the
   * linger. HTTP/2 sessions get GOAWAY (session.close()): their open streams
   * still complete.
   */
  startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    // First in line: the app's handler may answer synchronously, and by then it
    // is too late to say Connection: close.
    this.server.prependListener('request', this.onRequest);
    for (const socket of this.knownSockets()) this.drainSocket(socket);
    for (const session of this.sessions) closeSession(session);
  }

  /** The grace period is over: whatever is still open is destroyed. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }

  /** Ours, plus Node's list for connections accepted before addServer(). */
  private knownSockets(): Set<HttpSocket> {
    const symbol = Object.getOwnPropertySymbols(this.server).find((key) => key.description === 'http.server.connections');
    const list = symbol ? ((this.server as unknown as Record<symbol, Partial<ConnectionsList> | undefined>)[symbol]) : undefined;
    // Node's own list; other runtimes' node:http (Deno) may keep something else under that name.
    const entries = typeof list?.all === 'function' ? list.all() : [];
    for (const { socket } of entries) if (socket) this.track(socket as HttpSocket);
    return this.sockets;
  }

  private track(socket: HttpSocket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const state = this.states.get(socket);
      if (state) clearTimeout(state.lingerTimer);
      this.states.delete(socket);
    });
  }

  private readonly onConnection = (socket: HttpSocket): void => {
    // An HTTP/2 connection belongs to its session, which gets GOAWAY instead.
    if (this.http2 && (this.connectionEvent === 'connection' || (socket as { alpnProtocol?: unknown }).alpnProtocol === 'h2')) return;
    this.track(socket);
    // Accepted before the listener closed: it gets the same linger as the others.
    if (this.draining) this.drainSocket(socket);
  };

  private drainSocket(socket: HttpSocket): void {
    const parser = socket.parser;
    if (!parser || this.states.has(socket) || socket.destroyed) return;
    const state: SocketState = { socket, tracker: this, marked: undefined, lingerTimer: undefined };
    this.states.set(socket, state);
    // Before dispatch: a request behind a response that already said close is
    // dropped here, unseen by the app (the client retries it elsewhere).
    const dispatch = parser.onIncoming;
    if (dispatch) {
      parser.onIncoming = (req, keepAlive) => {
        if (state.marked && isLast(state.marked)) {
          req.resume();
          return 0;
        }
        return dispatch(req, keepAlive);
      };
    }
    this.settle(state);
  }

  /** After the drain began and after each response: mark the last response, or linger if idle. */
  settle(state: SocketState): void {
    const socket = state.socket as HttpSocket;
    const current = socket._httpMessage;
    if (!current) {
      lingerThenClose(state, this.lingerMs);
      return;
    }
    clearTimeout(state.lingerTimer);
    state.lingerTimer = undefined;
    watch(current, state);
    // Node answers in order: the response on the socket is the last only when no
    // request was parsed after its own.
    if (current.req === socket.parser?.incoming) this.mark(state, current);
  }

  private mark(state: SocketState, response: ServerResponse): void {
    if (state.marked === response) return;
    // A request arrived behind the marked one: only the last may say close.
    if (state.marked && !state.marked.headersSent) unmarkClose(state.marked);
    if (markClose(response)) state.marked = response;
  }

  private readonly onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.httpVersionMajor === 2) return;
    const socket = request.socket as HttpSocket;
    if (!this.states.has(socket)) {
      this.track(socket);
      this.drainSocket(socket);
    }
    const state = this.states.get(socket);
    if (!state) return;
    clearTimeout(state.lingerTimer);
    state.lingerTimer = undefined;
    this.mark(state, response);
    watch(response, state);
  };

  private readonly onSession = (session: Http2Session): void => {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    if (this.draining) closeSession(session);
  };
}

function watch(response: DrainedResponse, state: SocketState): void {
  if (response[kState]) return;
  response[kState] = state;
  response.on('finish', onResponseFinish);
}

/**
 * https and secure HTTP/2 servers are tls.Server instances. Checked by shape, not
 * instanceof, so that importing the lifecycle does not load node:tls (about 17 ms
 * and 3.5 MB of start-up, for every service, TLS or not).
 */
function isTlsServer(server: object): boolean {
  return typeof (server as { addContext?: unknown }).addContext === 'function';
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

interface SocketState {
  /** Requests received on this socket whose response has not closed yet. */
  requests: number;
  /** When the socket last became idle (Date.now()). */
  idleSince: number;
  lingerTimer: NodeJS.Timeout | undefined;
  /** The longest this client took from a response to its next request (back-to-back traffic only). */
  slowestReplyMs: number;
  /** At least one response went out: the next request's delay is a reply time. */
  served: boolean;
}

/** Gaps up to this many lingers count as a client's reply time; longer ones are idle periods. */
const BACK_TO_BACK_LINGERS = 4;

/** True for servers made by http2.createServer / createSecureServer. */
export function isHttp2Server(server: Server): boolean {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/**
 * Connection and request bookkeeping for one server, and the per-socket half of
 * the drain. Why not Node's closeIdleConnections(): a busy keep-alive client's
 * socket is idle only for an instant between two requests, and destroying it
 * then races with the next request already on the wire (FACTS.md §3: 40 lost of
 * 52 000). So while draining, a request that arrives on an existing socket is
 * served with `Connection: close`, and a socket is closed only after it stayed
 * idle for `lingerMs`.
 */
export class ConnectionTracker {
  readonly server: Server;
  private readonly sockets = new Map<Socket, SocketState>();
  private readonly responses = new Set<AnyResponse>();
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
    this.connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection';
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
    return this.responses.size;
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
    for (const response of this.responses) markClose(response);
    for (const [socket, state] of this.sockets) {
      if (state.requests === 0) this.scheduleClose(socket, state);
    }
    for (const session of this.sessions) closeSession(session);
  }

  /** The grace period is over: whatever is still open is destroyed. */
  destroyAll(): void {
    for (const socket of this.sockets.keys()) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }

  private readonly onConnection = (socket: Socket): void => {
    // An HTTP/2 connection belongs to its session, which gets GOAWAY instead.
    if (this.http2 && (this.connectionEvent === 'connection' || (socket as { alpnProtocol?: unknown }).alpnProtocol === 'h2')) return;
    const state = this.track(socket);
    // Accepted before the listener closed: it gets the same linger as the others.
    if (this.draining) this.scheduleClose(socket, state);
  };

  /** Also reached from a request whose connection predates addServer(). */
  private track(socket: Socket): SocketState {
    const known = this.sockets.get(socket);
    if (known) return known;
    const state: SocketState = { requests: 0, idleSince: Date.now(), lingerTimer: undefined, slowestReplyMs: 0, served: false };
    this.sockets.set(socket, state);
    socket.once('close', () => {
      clearTimeout(state.lingerTimer);
      this.sockets.delete(socket);
    });
    return state;
  }

  private readonly onSession = (session: Http2Session): void => {
    this.sessions.add(session);
    session.once('close', () => {
      this.sessions.delete(session);
    });
    if (this.draining) closeSession(session);
  };

  private readonly onRequest = (request: AnyRequest, response: AnyResponse): void => {
    this.responses.add(response);
    const state = request.httpVersionMajor === 2 ? undefined : this.track(request.socket as Socket);
    if (state) {
      const gap = Date.now() - state.idleSince;
      if (state.served && state.requests === 0 && gap <= BACK_TO_BACK_LINGERS * this.lingerMs) {
        state.slowestReplyMs = Math.max(state.slowestReplyMs, gap);
      }
      state.requests++;
      clearTimeout(state.lingerTimer);
      state.lingerTimer = undefined;
    }
    if (this.draining) markClose(response);
    let done = false;
    response.once('close', () => {
      if (done) return;
      done = true;
      this.responses.delete(response);
      if (state) {
        state.requests--;
        state.served = true;
        state.idleSince = Date.now();
        // A response whose headers went out before the drain said keep-alive:
        // the socket must still be ended, after the linger, not at keepAliveTimeout.
        if (this.draining && state.requests === 0) this.scheduleClose(request.socket as Socket, state);
      }
    });
  };

  private scheduleClose(socket: Socket, state: SocketState): void {
    clearTimeout(state.lingerTimer);
    const idleSince = state.idleSince;
    // A client seen taking longer than the linger to send its next request gets
    // twice its slowest reply time: closing sooner would race that request.
    const linger = Math.max(this.lingerMs, 2 * state.slowestReplyMs);
    const wait = Math.max(0, linger - (Date.now() - idleSince));
    state.lingerTimer = setTimeout(() => {
      state.lingerTimer = undefined;
      // Timers run before the loop reads sockets: after a stalled loop a request
      // may already wait in the kernel. setImmediate runs after that read.
      setImmediate(() => {
        if (state.requests > 0 || upgraded(socket) || socket.destroyed || state.lingerTimer) return;
        if (state.idleSince !== idleSince) return this.scheduleClose(socket, state);
        // FIN first so the client sees a clean close of an idle connection.
        socket.end(() => socket.destroy());
      });
    }, wait);
    state.lingerTimer.unref();
  }
}

/**
 * A socket an 'upgrade' handler took over (WebSocket) is the app's to close
 * (on the 'draining' event, with a close frame); the grace period is the
 * backstop. Node drops the HTTP parser of such a socket. (Listening to 'upgrade'
 * ourselves would make Node hand over every Upgrade request, even in apps that
 * do not handle them.)
 */
function upgraded(socket: Socket): boolean {
  return (socket as Socket & { parser?: unknown }).parser === null;
}

function markClose(response: AnyResponse): void {
  // HTTP/2 forbids connection-specific headers; GOAWAY does that job there.
  if (response.headersSent || 'stream' in response) return;
  (response as ServerResponse).setHeader('Connection', 'close');
}

function closeSession(session: Http2Session): void {
  // close() sends GOAWAY and lets the open streams finish.
  if (!session.closed && !session.destroyed) session.close();
}

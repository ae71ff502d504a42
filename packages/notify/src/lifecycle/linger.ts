import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

/** What the drain knows of one HTTP/1 connection, from the moment the drain began. */
export interface SocketState {
  readonly socket: Socket;
  readonly tracker: { settle(state: SocketState): void };
  /** The response the drain marked `Connection: close` (the last one on the socket). */
  marked: ServerResponse | undefined;
  lingerTimer: NodeJS.Timeout | undefined;
}

const kMarked = Symbol('node-systemd.markedClose');

/**
 * Closes the socket once it has been idle for the linger. A request arriving
 * meanwhile cancels it (its response says close, and Node ends the socket).
 */
export function lingerThenClose(state: SocketState, lingerMs: number): void {
  clearTimeout(state.lingerTimer);
  const socket = state.socket as Socket & { _httpMessage?: unknown };
  state.lingerTimer = setTimeout(() => {
    state.lingerTimer = undefined;
    // Timers run before the loop reads sockets: after a stalled loop a request
    // may already wait in the kernel. setImmediate runs after that read.
    setImmediate(() => {
      if (socket._httpMessage || upgraded(socket) || socket.destroyed || state.lingerTimer) return;
      // FIN first so the client sees a clean close of an idle connection.
      socket.end(() => socket.destroy());
    });
  }, lingerMs);
  state.lingerTimer.unref();
}

/**
 * A socket an 'upgrade' handler took over (WebSocket) is the app's to close
 * (on the 'draining' event, with a close frame); the grace period is the
 * backstop. Node drops the HTTP parser of such a socket. (Listening to 'upgrade'
 * ourselves would make Node hand over every Upgrade request, even in apps that
 * do not handle them.)
 */
export function upgraded(socket: Socket): boolean {
  return (socket as Socket & { parser?: unknown }).parser === null;
}

/** Says `Connection: close` when the headers have not gone out yet; true when it did. */
export function markClose(response: ServerResponse | Http2ServerResponse): boolean {
  // HTTP/2 forbids connection-specific headers; GOAWAY does that job there.
  if (response.headersSent || 'stream' in response) return false;
  const own = response.getHeader('connection');
  if (own !== undefined) return saysClose(response as ServerResponse);
  (response as ServerResponse).setHeader('Connection', 'close');
  (response as ServerResponse & { [kMarked]?: boolean })[kMarked] = true;
  return true;
}

/** Takes back our `Connection: close` (a request was pipelined behind this response). */
export function unmarkClose(response: ServerResponse): void {
  const marked = response as ServerResponse & { [kMarked]?: boolean };
  if (!marked[kMarked] || response.headersSent) return;
  response.removeHeader('Connection');
  marked[kMarked] = false;
}

/** The response said (or will say) `Connection: close`: the socket ends after it. */
function saysClose(response: ServerResponse): boolean {
  return /\bclose\b/i.test(String(response.getHeader('connection') ?? ''));
}

/** The socket ends after this response, for good: it said close, or the app (not the drain) made it say so. */
export function isLast(response: ServerResponse): boolean {
  return saysClose(response) && (response.headersSent || !(response as ServerResponse & { [kMarked]?: boolean })[kMarked]);
}

export function closeSession(session: Http2Session): void {
  // close() sends GOAWAY and lets the open streams finish.
  if (!session.closed && !session.destroyed) session.close();
}

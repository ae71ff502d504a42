import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

/** What the drain knows of one HTTP/1 connection. */
export interface SocketState {
  readonly socket: Socket;
  /** Requests received on this socket whose response has not closed yet. */
  requests: number;
  /** The latest of them, to mark with Connection: close when the drain starts. */
  current: ServerResponse | undefined;
  /** When the socket last became idle (Date.now()). */
  idleSince: number;
  lingerTimer: NodeJS.Timeout | undefined;
  /** The longest this client took from a response to its next request (back-to-back traffic only). */
  slowestReplyMs: number;
  /** At least one response went out: the next request's delay is a reply time. */
  served: boolean;
}

/** Gaps up to this many lingers count as a client's reply time; longer ones are idle periods. */
export const BACK_TO_BACK_LINGERS = 4;

/**
 * Closes the socket once it has been idle for the linger, or for twice the
 * longest its client took to send a next request when that is longer (closing
 * sooner would race that request). A request arriving meanwhile cancels it.
 */
export function lingerThenClose(state: SocketState, lingerMs: number): void {
  clearTimeout(state.lingerTimer);
  const { socket, idleSince } = state;
  const linger = Math.max(lingerMs, 2 * state.slowestReplyMs);
  const wait = Math.max(0, linger - (Date.now() - idleSince));
  state.lingerTimer = setTimeout(() => {
    state.lingerTimer = undefined;
    // Timers run before the loop reads sockets: after a stalled loop a request
    // may already wait in the kernel. setImmediate runs after that read.
    setImmediate(() => {
      if (state.requests > 0 || upgraded(socket) || socket.destroyed || state.lingerTimer) return;
      if (state.idleSince !== idleSince) return lingerThenClose(state, lingerMs);
      // FIN first so the client sees a clean close of an idle connection.
      socket.end(() => socket.destroy());
    });
  }, wait);
  state.lingerTimer.unref();
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

export function markClose(response: ServerResponse | Http2ServerResponse): void {
  // HTTP/2 forbids connection-specific headers; GOAWAY does that job there.
  if (response.headersSent || 'stream' in response) return;
  (response as ServerResponse).setHeader('Connection', 'close');
}

export function closeSession(session: Http2Session): void {
  // close() sends GOAWAY and lets the open streams finish.
  if (!session.closed && !session.destroyed) session.close();
}

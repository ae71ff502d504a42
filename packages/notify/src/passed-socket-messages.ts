import { isIP } from 'node:net';
import type { ListenMatch, ListenRequest, PassedSocket } from './passed-sockets.js';

// What the register entry and adoptPassedSocket() say when a listen() call and
// the passed sockets do not fit together: the fd, its name and address, and the fix.

/** `fd 3 "http" ([::]:3000)` */
export function describePassed(socket: PassedSocket): string {
  const address = socket.family === 6 ? `[${socket.host}]:${socket.port}` : `${socket.host}:${socket.port}`;
  return `fd ${socket.fd} ${JSON.stringify(socket.name)} (${address})`;
}

/** `127.0.0.1:3000`, `port 3000` */
export function describeRequest(request: ListenRequest): string {
  if (request.host === undefined) return `port ${request.port}`;
  return isIP(request.host) === 6 ? `[${request.host}]:${request.port}` : `${request.host}:${request.port}`;
}

/** The message for a listen call that will not use the passed socket it collides with, naming the fix. */
export function explainMismatch(request: ListenRequest, match: ListenMatch): string | undefined {
  const asked = describeRequest(request);
  if (match.kind === 'exclusive') {
    return (
      `listen(${asked}, exclusive: true) asks for a socket of its own, but systemd already passed ${describePassed(match.socket)} for that address, ` +
      'so binding it fails with EADDRINUSE. Fix: drop `exclusive: true` (the passed socket is then used), ' +
      'or remove that ListenStream= from the .socket unit.'
    );
  }
  if (match.kind === 'other-host') {
    const held = match.sockets.map(describePassed).join(', ');
    return (
      `listen(${asked}) binds a socket of its own: systemd passed ${held} for port ${request.port} on another address, which stays unused. ` +
      `Fix: listen on that address (or on every address: no host), or change ListenStream= in the .socket unit to ${asked}.`
    );
  }
  return undefined;
}

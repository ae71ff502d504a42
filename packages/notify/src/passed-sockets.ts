import { isIP, SocketAddress } from 'node:net';
import { resolve } from 'node:path';
import { listenFds } from './activation.js';
import { loadNative } from './native.js';

/**
 * Which passed socket a `server.listen(...)` call means. systemd binds the
 * address of a .socket unit (or hands a stored fd back) before the app starts;
 * an app that then binds the same address itself collides with it (EADDRINUSE).
 * This module says which passed socket, if any, a listen call asks for, so that
 * the call can take that fd instead. The register entry and the Fastify plugin
 * both ask here.
 */

/** A passed TCP listening socket and the address systemd bound it to. */
export interface PassedSocket {
  readonly fd: number;
  /** FileDescriptorName= (or FDNAME= of the fd store). */
  readonly name: string;
  /** Canonical address: `0.0.0.0`, `::`, `127.0.0.1`, `::1`, ... */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** A passed unix stream socket and the path (or `\0`-prefixed abstract name) it is bound to. */
export interface PassedUnixSocket {
  readonly fd: number;
  readonly name: string;
  readonly path: string;
}

/** What a TCP `listen()` call asks for. */
export interface ListenRequest {
  port: number;
  /** undefined: every address (Node binds `::`, or `0.0.0.0` without IPv6). */
  host?: string;
  exclusive?: boolean;
}

export type ListenMatch =
  /** Take this passed socket instead of binding. */
  | { kind: 'adopt'; socket: PassedSocket }
  /** A passed socket holds the address, but the call asks for a socket of its own (`exclusive: true`): binding will fail. */
  | { kind: 'exclusive'; socket: PassedSocket }
  /** Passed sockets hold this port on other addresses only: the call binds its own socket, and they stay unused. */
  | { kind: 'other-host'; sockets: PassedSocket[] }
  /** The matching passed socket was taken by another server already (Fastify's second binding for `localhost`, say). */
  | { kind: 'taken'; socket: PassedSocket }
  /** No passed socket has this port. */
  | { kind: 'none' };

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;

let cached: { tcp: PassedSocket[]; unix: PassedUnixSocket[] } | undefined;

/**
 * The passed fds that are listening stream sockets, with their bound address
 * (getsockname: exact, and right even when the service runs in a network
 * namespace of its own, where /proc/net/tcp would not show the socket). Datagram
 * sockets and other fds are left out: a listen() call cannot name them.
 */
function readPassed(): { tcp: PassedSocket[]; unix: PassedUnixSocket[] } {
  if (cached) return cached;
  const fds = listenFds();
  const tcp: PassedSocket[] = [];
  const unix: PassedUnixSocket[] = [];
  if (fds.length > 0) {
    const native = loadNative();
    for (const { fd, name } of fds) {
      const info = native.socketInfo(fd);
      if (typeof info === 'number' || info.type !== SOCK_STREAM || !info.listening) continue;
      const address = native.socketAddress(fd);
      if (typeof address === 'number') continue;
      if (address.family === AF_UNIX) {
        const path = unixPath(address.address);
        if (path !== undefined) unix.push(Object.freeze({ fd, name, path }));
        continue;
      }
      const host = formatAddress(address.family, address.address);
      if (host === undefined) continue;
      tcp.push(Object.freeze({ fd, name, host, port: address.port, family: address.family === AF_INET ? 4 : 6 }));
    }
  }
  cached = { tcp, unix };
  return cached;
}

/** The passed TCP listening sockets. */
export function passedSockets(): PassedSocket[] {
  return readPassed().tcp;
}

/** The passed unix listening sockets (`ListenStream=/run/app.sock`). */
export function passedUnixSockets(): PassedUnixSocket[] {
  return readPassed().unix;
}

/** sun_path bytes as Node names the socket: a path, or `\0name` for an abstract one; undefined when unnamed. */
export function unixPath(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === 0) return `\0${Buffer.from(bytes.subarray(1)).toString('utf8')}`;
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

/** The unix socket path a `listen()` call asks for (`listen(path)`, `listen({ path })`), made absolute. */
export function parseListenPath(args: readonly unknown[]): string | undefined {
  const first = args[0];
  let path: unknown;
  if (first !== null && typeof first === 'object') {
    const options = first as { path?: unknown; fd?: unknown; handle?: unknown; _handle?: unknown };
    if (options.fd !== undefined || options.handle !== undefined || options._handle !== undefined) return undefined;
    path = options.path;
  } else if (typeof first === 'string' && !/^[0-9]+$/.test(first)) {
    path = first;
  }
  if (typeof path !== 'string' || path === '') return undefined;
  return path.startsWith('\0') ? path : resolve(path);
}

/** Raw getsockname bytes as the canonical text form Node uses (`::ffff:1.2.3.4` as `1.2.3.4`). */
export function formatAddress(family: number, bytes: Uint8Array): string | undefined {
  if (family === AF_INET && bytes.length === 4) return bytes.join('.');
  if (family !== AF_INET6 || bytes.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonicalHost(groups.join(':'));
}

/** An IP literal in canonical form (IPv4-mapped IPv6 as IPv4); anything else unchanged. */
export function canonicalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const version = isIP(bare);
  if (version === 0) return host;
  const canonical = new SocketAddress({ address: bare, family: version === 4 ? 'ipv4' : 'ipv6' }).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(canonical);
  return mapped ? mapped[1]! : canonical;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Whether binding `requested` would bind (part of) what `socket` holds. */
export function coversHost(socket: PassedSocket, requested: string | undefined): boolean {
  if (requested === undefined || requested === '') return true;
  const host = canonicalHost(requested);
  if (WILDCARDS.has(host)) return true;
  const wanted = host.toLowerCase() === 'localhost' ? ['127.0.0.1', '::1'] : [host];
  // `::` (dual-stack, systemd's default for ListenStream=PORT) holds every
  // address; `0.0.0.0` every IPv4 address.
  if (socket.host === '::') return true;
  if (socket.host === '0.0.0.0') return wanted.some((address) => isIP(address) === 4);
  return wanted.includes(socket.host);
}

/**
 * Reads Node's `listen()` overloads the way net.Server does. Only a TCP listen
 * on a given port is a request; a path, an fd, a handle, or port 0 (any free
 * port) is not (undefined).
 */
export function parseListenArgs(args: readonly unknown[]): ListenRequest | undefined {
  const first = args[0];
  let port: unknown;
  let host: unknown;
  let exclusive: unknown;
  if (first !== null && typeof first === 'object') {
    const options = first as { port?: unknown; host?: unknown; path?: unknown; fd?: unknown; handle?: unknown; _handle?: unknown; exclusive?: unknown };
    if (options.path !== undefined || options.fd !== undefined || options.handle !== undefined || options._handle !== undefined) return undefined;
    ({ port, host, exclusive } = options);
  } else {
    port = first;
    if (typeof args[1] === 'string') host = args[1];
  }
  if (typeof port === 'string' && /^[0-9]+$/.test(port)) port = Number(port);
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65_535) return undefined;
  const request: ListenRequest = { port };
  if (typeof host === 'string' && host !== '') request.host = host;
  if (exclusive === true) request.exclusive = true;
  return request;
}

/** Which passed socket (of `sockets`) a listen request means; `taken` says which fds a server already uses. */
export function matchListen(request: ListenRequest, sockets: readonly PassedSocket[], taken: ReadonlySet<number>): ListenMatch {
  const samePort = sockets.filter((socket) => socket.port === request.port);
  if (samePort.length === 0) return { kind: 'none' };
  const covering = samePort.filter((socket) => coversHost(socket, request.host));
  if (covering.length === 0) {
    // Fastify's listen on "localhost" binds 127.0.0.1 and then ::1 (or the other
    // way round) with a second server: when the first took a loopback socket, the
    // second binding is that habit, not a mistake worth a warning.
    const sibling = isLoopback(request.host) ? samePort.find((socket) => taken.has(socket.fd) && isLoopback(socket.host)) : undefined;
    return sibling ? { kind: 'taken', socket: sibling } : { kind: 'other-host', sockets: samePort };
  }
  const free = covering.find((socket) => !taken.has(socket.fd));
  if (!free) return { kind: 'taken', socket: covering[0]! };
  if (request.exclusive) return { kind: 'exclusive', socket: free };
  return { kind: 'adopt', socket: free };
}

function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  const canonical = canonicalHost(host);
  return canonical === '::1' || canonical.toLowerCase() === 'localhost' || /^127\./.test(canonical);
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { NotifyError } from './errors.js';

/** The Node-API addon (native/notify.c). Failures come back as `-errno`. */
export interface NativeBinding {
  socket(): number;
  connect(fd: number, address: Buffer): number;
  bind(fd: number, address: Buffer): number;
  send(fd: number, address: Buffer | null, data: Buffer, fds: readonly number[] | null): number;
  recv(fd: number, maxBytes?: number): ReceivedDatagram | number;
  close(fd: number): number;
  pipe(): [number, number] | number;
  setCloexec(fd: number): number;
  socketInfo(fd: number): SocketInfo | number;
  socketAddress(fd: number): SocketAddressBytes | number;
  setReceiveBuffer(fd: number, bytes: number): number;
  /** Raises SO_SNDBUF (SO_SNDBUFFORCE when privileged); returns the size granted. */
  setSendBuffer(fd: number, bytes: number): number;
  /** A memfd holding `data`, sealed against shrink, grow, write and more seals. */
  sealedMemfd(data: Buffer): number;
  /** The F_GET_SEALS bits of an fd. */
  fileSeals(fd: number): number;
}

export interface ReceivedDatagram {
  data: Buffer;
  fds: number[];
  pid: number;
  uid: number;
  gid: number;
  truncated: boolean;
}

export interface SocketInfo {
  /** AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10. */
  family: number;
  /** SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5. */
  type: number;
  listening: boolean;
}

/** getsockname(2): raw address bytes (4 for AF_INET, 16 for AF_INET6, sun_path for AF_UNIX) and the port. */
export interface SocketAddressBytes {
  family: number;
  port: number;
  address: Buffer;
}

const packageRoot = join(__dirname, '..');
let binding: NativeBinding | undefined;

/** Where the loader looks, in order: a build from source wins over the prebuilt. */
export function binaryCandidates(): string[] {
  // Required lazily: only a process that sends anything pays for it.
  const { binaryTarget } = require('../scripts/target.cjs') as typeof import('../scripts/target.cjs');
  const target = binaryTarget();
  return [
    join(packageRoot, 'build', 'Release', 'notify.node'),
    join(packageRoot, 'prebuilds', target.dir, target.file),
  ];
}

/**
 * Loads the addon on first use. Nothing calls this unless a message must really
 * go out (or a socket-activated fd needs FD_CLOEXEC), so off systemd no native code
 * is ever loaded. It never compiles anything.
 */
export function loadNative(): NativeBinding {
  if (binding) return binding;
  const tried: string[] = [];
  let lastError: unknown;
  for (const file of binaryCandidates()) {
    if (!existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
    }
    try {
      binding = require(file) as NativeBinding;
      return binding;
    } catch (error) {
      lastError = error;
      tried.push(`${file} (${(error as Error).message.split('\n')[0]})`);
    }
  }
  const { describeTarget } = require('../scripts/target.cjs') as typeof import('../scripts/target.cjs');
  throw new NotifyError(
    'ERR_NOTIFY_NATIVE_UNAVAILABLE',
    `@node-systemd/notify cannot load its native transport on ${describeTarget()}, Node ${process.version}; ` +
      `NOTIFY_SOCKET is set, so systemd is waiting for messages this process cannot send. Tried: ${tried.join('; ')}. ` +
      'Prebuilt binaries ship for linux x64, arm64 and armv7 (glibc 2.28+ and musl). ' +
      'Fix: reinstall the package (a missing prebuilds/ directory means a partial install), or build it for this machine ' +
      'with a C compiler and Node headers: `node node_modules/@node-systemd/notify/scripts/build-native.cjs`.',
    { cause: lastError },
  );
}

/**
 * Under systemd, a binary that cannot load is a start that times out, so the
 * lifecycle checks at start-up and reports it through `report` once, then not
 * again for each message that fails the same way. Returns that deduplicating
 * reporter. Off systemd it loads nothing.
 */
export function reportNativeOnce(supervised: boolean, report: (error: Error) => void): (error: Error) => void {
  let reported = false;
  const once = (error: Error): void => {
    if ((error as NotifyError).code === 'ERR_NOTIFY_NATIVE_UNAVAILABLE') {
      if (reported) return;
      reported = true;
    }
    report(error);
  };
  if (supervised) {
    try {
      loadNative();
    } catch (error) {
      once(error as Error);
    }
  }
  return once;
}

/** A kernel error from the addon as a Node-style error (`code: 'ENOENT'`, ...). */
export function systemError(result: number, syscall: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(result);
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  error.code = code;
  error.errno = result;
  error.syscall = syscall;
  return error;
}

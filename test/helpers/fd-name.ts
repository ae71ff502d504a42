// The adapters' fdName tests: names systemd's FileDescriptorName= rule refuses,
// and a child app started with two passed sockets ("admin", "web site") that must
// serve on the one its fdName picks.
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { serverFd } from '@node-systemd/notify';
import { spawnWithListenFds } from '@node-systemd/notify/testing';

/** Refused: empty, a ":" (the LISTEN_FDNAMES separator), too long, a control character, not ASCII, not a string. */
export const BAD_FD_NAMES: readonly unknown[] = ['', 'web:1', 'x'.repeat(256), 'tab\there', 'café', 42];

/** A refusal of a bad fdName: ERR_NOTIFY_INVALID_OPTION, with a message naming systemd's rule. */
export function isFdNameRefusal(error: unknown): boolean {
  return (
    (error as { code?: unknown } | null)?.code === 'ERR_NOTIFY_INVALID_OPTION' &&
    /fdName option must be a FileDescriptorName= of 1 to 255 printable ASCII characters without ":"/.test((error as Error).message)
  );
}

async function listening(): Promise<Server> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs `script` (node -e, in `cwd`) with the sockets "admin" and "web site" passed
 * as fds 3 and 4; once it prints a line, only its copies remain, and the body of
 * a GET on the "web site" socket is returned.
 */
export async function bodyFromNamedSocket(script: string, cwd: string): Promise<string> {
  const admin = await listening();
  const web = await listening();
  const { port } = web.address() as AddressInfo;
  const env = { ...process.env };
  for (const name of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[name];
  const child = spawnWithListenFds(process.execPath, ['-e', script], [
    { fd: serverFd(admin)!, fdName: 'admin' },
    { fd: serverFd(web)!, fdName: 'web site' },
  ], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening: ${stderr}`)));
    });
    web.close();
    admin.close();
    return await get(port);
  } finally {
    web.close();
    admin.close();
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

import { request, Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Notifier, createLifecycle, type Lifecycle, type LifecycleOptions } from '../src/index.js';
import { FakeNotifyManager } from '../src/testing/index.js';

export interface Rig {
  manager: FakeNotifyManager;
  notifier: Notifier;
  server: Server;
  lifecycle: Lifecycle;
  port: number;
  close(): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A lifecycle over a real server on 127.0.0.1 and a fake manager, signals off. */
export async function rig(handler: Handler, options: LifecycleOptions = {}): Promise<Rig> {
  const manager = await FakeNotifyManager.start();
  const notifier = new Notifier({ socket: manager.socket });
  const server = createServer(handler);
  // Huge on purpose: a drain that waited for keepAliveTimeout would time the test out.
  server.keepAliveTimeout = 600_000;
  const lifecycle = createLifecycle({ notifier, handleSignals: false, watchdog: false, ...options });
  await lifecycle.listen(server, { port: 0, host: '127.0.0.1' });
  await lifecycle.ready();
  const port = (server.address() as AddressInfo).port;
  return {
    manager,
    notifier,
    server,
    lifecycle,
    port,
    close() {
      lifecycle.dispose();
      server.closeAllConnections();
      server.close();
      notifier.close();
      manager.close();
    },
  };
}

export interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
  socket: Socket;
}

/** One GET over the agent; resolves with status, Connection header, body and the socket used. */
export function get(port: number, path: string, agent: Agent, onResponse?: (res: IncomingMessage) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      onResponse?.(res);
      const socket = res.socket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when the socket closes. */
export function closed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Index of the first message matching `test`, -1 if none. */
export function indexOf(manager: FakeNotifyManager, test: (fields: Readonly<Record<string, string>>) => boolean): number {
  manager.drainQueue();
  return manager.messages.findIndex((message) => test(message.fields));
}

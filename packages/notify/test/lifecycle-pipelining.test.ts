// Pipelined requests during a drain, over raw sockets: every request the app
// receives gets its response, only the last response on a connection says
// Connection: close, and a request behind a response that already said close is
// never dispatched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { rig, type Rig } from './lifecycle-helpers.js';

const requestFor = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

interface Client {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  received: Promise<string>;
}

function open(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      const received = new Promise<string>((done) => socket.once('close', () => done(data)));
      resolve({ socket, received });
    });
    socket.once('error', reject);
  });
}

/** Splits a byte stream of HTTP/1.1 responses (Content-Length bodies) into status, Connection header and body. */
function responses(data: string): Array<{ connection: string | undefined; body: string }> {
  const out: Array<{ connection: string | undefined; body: string }> = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ connection: /\r\nconnection: ([^\r]+)/i.exec(head)?.[1]?.toLowerCase(), body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

/** A server whose held paths wait until released (answering their own name); every dispatched path is recorded. */
async function holdingRig(heldPaths = ['/a']): Promise<{ r: Rig; seen: string[]; arrived: (path: string) => Promise<ServerResponse>; release: (path?: string) => void }> {
  const seen: string[] = [];
  const waiting = new Map<string, (res: ServerResponse) => void>();
  const held: ServerResponse[] = [];
  const r = await rig((req, res) => {
    seen.push(req.url!);
    if (heldPaths.includes(req.url!)) held.push(res);
    else res.end(req.url!.slice(1));
    waiting.get(req.url!)?.(res);
  });
  const arrived = (path: string): Promise<ServerResponse> => new Promise((resolve) => waiting.set(path, resolve));
  return { r, seen, arrived, release: (path?: string) => held.filter((res) => path === undefined || res.req.url === path).forEach((res) => res.end(res.req.url!.slice(1))) };
}

test('success: a request pipelined behind an in-flight one after the drain began: both answered, only the last says close', { timeout: 20_000 }, async () => {
  const { r, seen, arrived, release } = await holdingRig();
  try {
    const client = await open(r.port);
    const a = arrived('/a');
    client.socket.write(requestFor('/a'));
    await a;
    const drained = r.lifecycle.shutdown();
    const b = arrived('/b');
    client.socket.write(requestFor('/b'));
    await b;
    release();
    const got = responses(await client.received);
    assert.deepEqual(seen, ['/a', '/b']);
    assert.deepEqual(got.map((reply) => reply.body), ['a', 'b']);
    // HTTP/1.1 is persistent unless a response says close: only the last one does.
    assert.deepEqual(got.map((reply) => reply.connection === 'close'), [false, true]);
    await drained;
    assert.equal(r.lifecycle.forced, false);
  } finally {
    r.close();
  }
});

test('success: two requests pipelined before the drain began: both answered, only the last says close', { timeout: 20_000 }, async () => {
  const { r, seen, arrived, release } = await holdingRig(['/a', '/b']);
  try {
    const client = await open(r.port);
    const b = arrived('/b');
    client.socket.write(requestFor('/a') + requestFor('/b'));
    await b;
    const drained = r.lifecycle.shutdown();
    release('/a');
    await new Promise<void>((resolve) => client.socket.once('data', () => resolve()));
    release('/b');
    const got = responses(await client.received);
    assert.deepEqual(seen, ['/a', '/b']);
    assert.deepEqual(got.map((reply) => reply.body), ['a', 'b']);
    // HTTP/1.1 is persistent unless a response says close: only the last one does.
    assert.deepEqual(got.map((reply) => reply.connection === 'close'), [false, true]);
    await drained;
  } finally {
    r.close();
  }
});

test('success: a request pipelined behind a response that already said close is never dispatched (no side effect)', { timeout: 20_000 }, async () => {
  const { r, seen, arrived } = await holdingRig();
  try {
    const client = await open(r.port);
    const a = arrived('/a');
    client.socket.write(requestFor('/a'));
    const response = await a;
    const drained = r.lifecycle.shutdown();
    // The response's headers go out with Connection: close, its body is not done yet.
    response.setHeader('Content-Length', '1');
    response.flushHeaders();
    await new Promise<void>((resolve) => client.socket.once('data', () => resolve()));
    // Give the server time to read /b (a dispatch would show at once; passing
    // never depends on this wait: /b must not run whether read now or later).
    const b = arrived('/b');
    client.socket.write(requestFor('/b'));
    await Promise.race([b, new Promise((resolve) => setTimeout(resolve, 300))]);
    response.end('a');
    const got = responses(await client.received);
    assert.deepEqual(got, [{ connection: 'close', body: 'a' }]);
    assert.deepEqual(seen, ['/a'], 'the handler for /b never ran');
    await drained;
  } finally {
    r.close();
  }
});

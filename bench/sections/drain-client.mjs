// The load client of the drain section, a child process of its own (IPC):
// IDLE keep-alive connections that made one request and then sit idle, and
// INFLIGHT connections each with one request to ROUTE (/slow or /stream) still
// running. Then, told that SIGTERM went out, it opens one new connection during
// the drain and records what it gets. Raw sockets and a small HTTP/1.1 response
// parser, so that every reset and every "closed without response" is seen.
//
// With BUSY > 0, that many more clients send /fast back to back on keep-alive
// sockets the whole time (reconnecting when the server closes theirs), which is
// where a drain that closes "idle" sockets at once races with requests already
// on the wire.
//
//   node drain-client.mjs <port> <idle> <inflight> <route> [busy]
import net from 'node:net';
import { parseResponse } from '../lib/http-response.mjs';

const [port, idle, inflight] = process.argv.slice(2, 5).map(Number);
const route = process.argv[5] ?? '/slow';
const busy = Number(process.argv[6] ?? 0);
const HOST = '127.0.0.1';
const now = () => performance.timeOrigin + performance.now();

/**
 * One connection that sends `path` and resolves with the outcome of that request:
 * { ok, status, connection, error, at, closedAt }. The socket stays open after a
 * response unless the server closes it; `onClose` hears when it does.
 */
function request(path) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: HOST });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const conn = { socket, closedAt: undefined, error: undefined, connected: false };
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      resolve({ conn, ...outcome, at: now() });
    };
    socket.setNoDelay(true);
    socket.on('connect', () => {
      conn.connected = true;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const response = parseResponse(buffer);
      if (response?.complete) {
        settle({ ok: response.status === 200, status: response.status, connection: response.headers.connection ?? '(none)' });
      }
    });
    socket.on('error', (error) => {
      conn.error = error.code ?? error.message;
      settle({ ok: false, error: error.code ?? error.message, connected: conn.connected });
    });
    socket.on('close', () => {
      conn.closedAt = now();
      settle({ ok: false, error: buffer.length > 0 ? 'closed mid-response' : 'closed without response', connected: conn.connected });
    });
  });
}

async function inBatches(count, size, make) {
  const out = [];
  for (let i = 0; i < count; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, make))));
  return out;
}

/**
 * A client that sends GET /fast back to back on one keep-alive socket, opening a
 * new one when the server closes it. Every request is counted: ok, failed (reset
 * or closed without a response after it was sent), or refused (no listener).
 */
function busyClient(stats, shouldStop) {
  return new Promise((resolveClient) => {
    const open = () => {
      if (shouldStop()) return resolveClient();
      const socket = net.connect({ port, host: HOST });
      let buffer = Buffer.alloc(0);
      let outstanding = false;
      let closing = false;
      const send = () => {
        if (shouldStop()) { socket.destroy(); return; }
        outstanding = true;
        buffer = Buffer.alloc(0);
        stats.requests++;
        socket.write('GET /fast HTTP/1.1\r\nHost: bench\r\n\r\n');
      };
      socket.setNoDelay(true);
      socket.on('connect', send);
      socket.on('data', (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        const response = parseResponse(buffer);
        if (!response?.complete) return;
        outstanding = false;
        if (response.status === 200) stats.ok++;
        else stats.failed[`HTTP ${response.status}`] = (stats.failed[`HTTP ${response.status}`] ?? 0) + 1;
        if (/close/i.test(response.headers.connection ?? '')) { closing = true; socket.end(); } else send();
      });
      socket.on('error', (error) => {
        if (error.code === 'ECONNREFUSED') { stats.refused++; stats.requests++; return; }
        if (outstanding) { outstanding = false; stats.failed[error.code ?? 'error'] = (stats.failed[error.code ?? 'error'] ?? 0) + 1; }
      });
      socket.on('close', () => {
        if (outstanding) stats.failed['closed without response'] = (stats.failed['closed without response'] ?? 0) + 1;
        if (shouldStop()) return resolveClient();
        setTimeout(open, closing ? 0 : 5);
      });
    };
    open();
  });
}

const idleResults = await inBatches(idle, 50, () => request('/fast'));
const busyStats = { requests: 0, ok: 0, refused: 0, failed: {} };
let stopBusy = false;
const busyClients = Array.from({ length: busy }, () => busyClient(busyStats, () => stopBusy));
const idleFailures = idleResults.filter((r) => !r.ok).length;
const inflightPromises = Array.from({ length: inflight }, () => request(route));
let newConnection;
let exitedAt;

process.on('message', async (message) => {
  if (message.type === 'sigterm') {
    await new Promise((resolve) => setTimeout(resolve, message.newConnectionAfterMs));
    const startedAt = now();
    newConnection = request('/fast').then((r) => ({ ...r, startedAt }));
  } else if (message.type === 'exited') {
    exitedAt = message.at;
    // Whatever has not settled a moment after the server is gone never will.
    setTimeout(() => finish(), 300).unref();
  }
});

let finished = false;
async function finish() {
  if (finished) return;
  finished = true;
  stopBusy = true;
  const timeout = (p, fallback) => Promise.race([p, new Promise((r) => setTimeout(() => r(fallback), 100))]);
  const results = await Promise.all(inflightPromises.map((p) => timeout(p, { ok: false, error: 'no response before exit' })));
  const fresh = newConnection ? await timeout(newConnection, { ok: false, error: 'pending', pending: true }) : undefined;
  let newOutcome = 'not tried';
  if (fresh) {
    if (fresh.ok || fresh.status) newOutcome = `served (${fresh.status}, Connection: ${fresh.connection})`;
    else if (fresh.error === 'ECONNREFUSED') newOutcome = 'refused';
    else if (fresh.pending) newOutcome = 'left queued (no answer before exit)';
    else if (exitedAt !== undefined && fresh.at >= exitedAt - 5) newOutcome = 'queued, reset at exit';
    else newOutcome = `accepted and reset (${fresh.error})`;
  }
  const idleClosed = idleResults.map((r) => r.conn.closedAt).filter((t) => t !== undefined);
  process.send({
    type: 'result',
    inflight: results.map(({ conn, ...r }) => r),
    idleFailures,
    idleClosed: idleClosed.length,
    lastIdleClosedAt: idleClosed.length ? Math.max(...idleClosed) : undefined,
    newConnection: newOutcome,
    busy: busy > 0 ? busyStats : undefined,
  });
  for (const r of [...idleResults, ...results]) r.conn?.socket.destroy();
  setTimeout(() => process.exit(0), 50);
}

process.send({ type: 'loaded', idleFailures });
// Bounded in any case.
setTimeout(() => finish(), 40_000).unref();

// The load of the restart section, a child process: CONNECTIONS keep-alive
// clients (one socket each), GET / back to back, until told to stop (IPC) or
// MAX_MS passed. Counts successes and failures by kind.
//
//   node restart-load.mjs <port> <connections> <maxMs>
import http from 'node:http';

const [port, connections, maxMs] = process.argv.slice(2).map(Number);
let stopping = false;
const stats = { requests: 0, ok: 0, failed: 0, kinds: {} };
const failure = (kind) => { stats.failed++; stats.kinds[kind] = (stats.kinds[kind] ?? 0) + 1; };

function get(agent) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`));
      res.on('error', (error) => resolve(error.code ?? error.message));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve(error.code ?? error.message));
  });
}

async function client() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (!stopping) {
    stats.requests++;
    const error = await get(agent);
    if (error === null) stats.ok++;
    else {
      failure(error);
      await new Promise((resolve) => setTimeout(resolve, 5)); // a refused port fails at once
    }
  }
  agent.destroy();
}

const done = Promise.all(Array.from({ length: connections }, client));
const stop = async () => {
  stopping = true;
  await done;
  process.send({ type: 'result', stats });
  process.disconnect();
};
process.on('message', (m) => { if (m.type === 'stop') void stop(); });
setTimeout(() => void stop(), maxMs).unref();
process.send({ type: 'started' });

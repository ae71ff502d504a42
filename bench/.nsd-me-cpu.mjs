// scratch (not committed): CPU µs per request of hello-app.mjs <framework> <mode>
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const [framework, ...modes] = process.argv.slice(2);
const tick = 100; // CLK_TCK
function cpu(pid) { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / tick; }
async function once(mode) {
  const child = spawn(process.execPath, ['sections/hello-app.mjs', framework, mode], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((r) => child.stdout.once('data', (d) => r(Number(String(d).split(' ')[1]))));
  await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, duration: 1 });
  const before = cpu(child.pid);
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, duration: 4 });
  const used = cpu(child.pid) - before;
  child.kill('SIGKILL');
  return (used * 1e6) / result.requests.total;
}
const out = {};
for (let round = 0; round < 3; round++) for (const mode of modes) (out[mode] ??= []).push(await once(mode));
for (const [mode, v] of Object.entries(out)) console.log(mode, v.map((x) => x.toFixed(2)).join(' '), 'median', v.sort((a, b) => a - b)[1].toFixed(2));

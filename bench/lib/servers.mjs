// Starting the bench's server children and waiting for their "listening" line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { benchDir } from './paths.mjs';

export const now = () => performance.timeOrigin + performance.now();

/** The line of a child's stderr that says what went wrong. */
export function firstError(stderr) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.find((l) => /ERR_|Cannot find/.test(l)) ?? lines.at(-1) ?? 'no output';
}

/**
 * Spawns `node sections/<script> ...args` and resolves once it printed
 * "listening <port> [abs ms]": { child, port, spawnedAt, listeningAt, stop() }.
 */
export function startServer(script, args, { env = {}, timeoutMs = 20_000 } = {}) {
  const spawnedAt = now();
  const child = spawn(process.execPath, [join(benchDir, 'sections', script), ...args], {
    cwd: benchDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} ${args.join(' ')}: not listening after ${timeoutMs} ms`)); }, timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, port, at] = line.split(' ');
      if (what !== 'listening') return;
      clearTimeout(timer);
      resolve({
        child,
        port: Number(port),
        spawnedAt,
        listeningAt: at ? Number(at) : now(),
        stop() {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          return new Promise((done) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
            child.once('exit', () => { clearTimeout(kill); done(); });
            child.kill('SIGTERM');
          });
        },
      });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before listening: ${firstError(stderr)}`));
    });
  });
}

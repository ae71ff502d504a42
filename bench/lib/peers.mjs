// Native peers (sd-notify, unix-dgram) are optional dependencies: their builds
// may fail on install without breaking it. Before a section uses one, check that
// it loads, and if not, install what it needs and rebuild it with pnpm.
import { spawnSync } from 'node:child_process';
import { ensureLibsystemdDev } from './setup.mjs';
import { benchDir } from './paths.mjs';

function loads(name) {
  const result = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name)})`], {
    cwd: benchDir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 20_000,
  });
  return result.status === 0 ? null : (result.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? `exit ${result.status}`);
}

function pnpm(args) {
  const execpath = process.env.npm_execpath;
  const [cmd, pre] = execpath && /pnpm/.test(execpath) ? [process.execPath, [execpath]] : ['pnpm', []];
  return spawnSync(cmd, [...pre, ...args], { cwd: benchDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
}

/** Returns null when the package loads (after a rebuild if needed), else why not. */
export function ensureNativePeer(name, log) {
  let problem = loads(name);
  if (!problem) return null;
  if (/Cannot find module '([^']*)'/.test(problem) && !/bindings|\.node/.test(problem)) {
    log(`${name} is not installed; running pnpm install`);
    pnpm(['install', '--frozen-lockfile']);
    problem = loads(name);
    if (!problem) return null;
  }
  if (name === 'sd-notify' || name === 'systemd-journald') {
    const reason = ensureLibsystemdDev(log);
    if (reason) return reason;
  }
  log(`${name} does not load (${problem}); rebuilding it with pnpm rebuild`);
  const rebuilt = pnpm(['rebuild', name]);
  problem = loads(name);
  if (!problem) return null;
  return `${name} does not load after pnpm rebuild (exit ${rebuilt.status}): ${problem}`;
}

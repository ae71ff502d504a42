// Native peers (sd-notify, unix-dgram) are optional dependencies that `pnpm
// install` does not build (pnpm-workspace.yaml). Before a section uses one, check
// that it loads, and if not, install what it needs and build it with node-gyp
// against the headers of the Node that runs the bench (its own include/node, or
// Debian's /usr/include/node), never downloaded ones.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
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

/** The prefix whose include/node has this Node's headers (the official tarball layout, or Debian's /usr). */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  for (const dir of [process.env.npm_config_nodedir, prefix, '/usr']) {
    if (dir && existsSync(path.join(dir, 'include', 'node', 'node.h'))) return dir;
  }
  return undefined;
}

/** node-gyp as npm ships it (npm is on every machine that has Node). */
function nodeGyp() {
  const npm = realpathSync(spawnSync('/bin/sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  return path.join(path.dirname(npm), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
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
  const nodedir = localNodeDir();
  if (!nodedir) return `${name} needs Node's headers to build, and none are next to ${process.execPath} or in /usr/include/node`;
  log(`${name} does not load (${problem}); building it with node-gyp against ${nodedir}/include/node`);
  const dir = realpathSync(path.join(benchDir, 'node_modules', name));
  const rebuilt = spawnSync(process.execPath, [nodeGyp(), 'rebuild', `--nodedir=${nodedir}`], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000,
    env: { ...process.env, npm_config_nodedir: nodedir },
  });
  problem = loads(name);
  if (!problem) return null;
  return `${name} does not load after node-gyp rebuild (exit ${rebuilt.status}: ${(rebuilt.stderr || '').trim().split('\n').slice(-3).join(' | ')}): ${problem}`;
}

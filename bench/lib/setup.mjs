// What machine and software a run used, printed above every table, and the
// system packages a section needs (installed on demand, pinned to what is there).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
}

export function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const systemd = /systemd (\d+) \(([^)]+)\)/.exec(run('systemctl', ['--version']));
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: `${model}, ${os.cpus().length} cores`,
    kernel: os.release(),
    node: process.version,
    systemd: systemd ? `${systemd[1]} (${systemd[2]})` : 'not installed',
    load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

/** One line for the top of a table: the setup plus what the section adds. */
export function setupLine(setup, extra = '') {
  const parts = [
    setup.date,
    setup.cpu,
    `Linux ${setup.kernel}`,
    `Node ${setup.node}`,
    `systemd ${setup.systemd}`,
    `load ${setup.load}`,
  ];
  return `Setup: ${parts.join(' · ')}${extra ? ` · ${extra}` : ''}`;
}

/**
 * libsystemd-dev, which the npm `sd-notify` package compiles against. Installed
 * with apt-get when missing, pinned to the installed libsystemd0 so that apt
 * never upgrades the host's systemd. Returns a reason string when it cannot.
 */
export function ensureLibsystemdDev(log) {
  if (existsSync('/usr/include/systemd/sd-daemon.h')) return null;
  if (process.getuid?.() !== 0) return 'libsystemd-dev is missing and this is not root';
  const version = run('dpkg-query', ['-W', '-f=${Version}', 'libsystemd0']);
  if (!version) return 'libsystemd0 is not installed (no dpkg?)';
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', `libsystemd-dev=${version}`], {
    stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  log(`installing libsystemd-dev=${version} with apt-get (for the sd-notify peer)`);
  let result = install();
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore', timeout: 180_000 });
    result = install();
  }
  if (result.status !== 0) return `apt-get install libsystemd-dev=${version} failed: ${(result.stderr || '').trim().split('\n').pop()}`;
  return null;
}

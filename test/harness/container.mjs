// Real-systemd test harness: boots systemd as PID 1 of a systemd-nspawn container.
//
// Plain Node ESM, no dependencies beyond Node itself (Node 20+). Linux, root only.
// See README.md beside this file for the API, timings and pitfalls.
//
// Layout of one container on the host:
//   WORK = $TMPDIR/node-systemd-harness/<id>/      (deleted by stop())
//     boot.sh        the script run under `unshare --mount --propagation private`
//     etc/           the /etc the harness writes (copied into the root by boot.sh)
//     root/          mount point of the container root (mounted only inside the
//                    private mount namespace, so the host never sees a mount)
//     console.log    everything nspawn and the container's console printed
//   cgroup  <hierarchy>/node-systemd-harness/<id>   (unified + name=systemd on a hybrid
//                    host, the one cgroup2 tree on a pure v2 host; removed by stop())

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CACHE_DIR = '/var/cache/node-systemd';
export const TRIXIE_ROOT = path.join(CACHE_DIR, 'trixie-root');
const TRIXIE_STAMP = path.join(CACHE_DIR, 'trixie-root.stamp');
const TRIXIE_LOCK = path.join(CACHE_DIR, 'trixie-root.lock');
const CGROUP_PARENT = 'node-systemd-harness';
const INNER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// glibc's SIGRTMIN is 34 (the kernel's 32 + 2 reserved by glibc); systemd's "poweroff"
// signal is SIGRTMIN+4 in glibc terms.
const SIGRTMIN_PLUS_4 = 38;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a host command; never throws for a non-zero exit. Kills its process group on timeout. */
function run(cmd, args, { timeoutMs = 60_000, env, input, cwd, spareLeader = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let child;
    try {
      child = spawn(cmd, args, {
        env: env ?? { ...process.env, PATH: process.env.PATH || HOST_PATH },
        cwd,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true, // own process group: a timeout kills exactly what we started
      });
    } catch (err) {
      reject(err);
      return;
    }
    const out = [];
    const errc = [];
    let timedOut = false;
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => errc.push(d));
    let lastResort;
    const killGroup = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
    const timer = setTimeout(() => {
      timedOut = true;
      if (!spareLeader) return killGroup();
      // nsenter: kill its child (inside the container) first and let nsenter reap it.
      // Killing both at once leaves the child a zombie whose new parent is outside the
      // container; it then holds up the container's shutdown for 10 s.
      for (const pid of processGroup(child.pid)) {
        if (pid !== child.pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      }
      lastResort = setTimeout(killGroup, 2_000);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lastResort);
      resolve({
        code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1),
        signal,
        timedOut,
        ms: Date.now() - started,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(errc).toString('utf8'),
      });
    });
    if (input !== undefined) {
      child.stdin.on('error', () => {}); // EPIPE if the command does not read
      child.stdin.end(input);
    }
  });
}

/** PIDs whose process group is pgid. */
function processGroup(pgid) {
  const out = [];
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const st = fs.readFileSync(`/proc/${ent}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // state ppid pgrp ...
      if (Number(f[2]) === pgid) out.push(Number(ent));
    } catch { /* gone */ }
  }
  return out;
}

function which(cmd) {
  for (const dir of (process.env.PATH || HOST_PATH).split(':').concat(HOST_PATH.split(':'))) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

function tail(text, lines = 30) {
  return String(text).trimEnd().split('\n').slice(-lines).join('\n');
}

function shq(s) {
  return `'${String(s).replaceAll("'", "'\\''")}'`;
}

function pidAlive(pid) {
  if (!pid) return false;
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the ")" of the comm
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function procStatus(pid) {
  try {
    const txt = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const o = {};
    for (const line of txt.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) o[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    return o;
  } catch {
    return null;
  }
}

async function waitUntil(fn, { timeoutMs, intervalMs = 25, what = 'condition' }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// Host preparation

let hostPackagesPromise = null;

/**
 * Makes sure systemd-nspawn is installed: `apt-get install --no-install-recommends
 * systemd-container=<exact version of the installed systemd>` (pinned so apt never
 * upgrades the host's systemd), with `apt-get update` first if that version is not
 * known to apt. Idempotent; returns at once when systemd-nspawn is already there.
 */
export function ensureHostPackages({ timeoutMs = 600_000, log = () => {} } = {}) {
  if (which('systemd-nspawn')) return Promise.resolve({ nspawn: which('systemd-nspawn'), installed: false });
  hostPackagesPromise ??= (async () => {
    if (process.getuid?.() !== 0) throw new Error('not root: cannot apt-get install systemd-container');
    if (!which('apt-get') || !which('dpkg-query')) throw new Error('no apt-get/dpkg-query on this host');
    const v = await run('dpkg-query', ['-W', '-f=${Version}', 'systemd']);
    const version = v.stdout.trim();
    if (v.code !== 0 || !version) throw new Error(`systemd is not installed as a Debian package: ${tail(v.stderr, 3)}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: process.env.PATH || HOST_PATH };
    const install = () =>
      run('apt-get', ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300',
        `systemd-container=${version}`], { env, timeoutMs });
    log(`apt-get install systemd-container=${version}`);
    let r = await install();
    if (r.code !== 0) {
      log(`install failed (${tail(r.stderr, 2)}); apt-get update, then retry`);
      const u = await run('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=300'], { env, timeoutMs });
      if (u.code !== 0) throw new Error(`apt-get update failed: ${tail(u.stderr + u.stdout, 5)}`);
      r = await install();
    }
    if (r.code !== 0 || !which('systemd-nspawn')) {
      throw new Error(`apt-get install systemd-container=${version} failed (exit ${r.code}): ${tail(r.stderr + r.stdout, 8)}`);
    }
    return { nspawn: which('systemd-nspawn'), installed: true, version };
  })().finally(() => { hostPackagesPromise = null; });
  return hostPackagesPromise;
}

/** Detects the host's cgroup layout. */
export function cgroupLayout() {
  const t = (p) => { try { return spawnSync('stat', ['-fc', '%T', p], { encoding: 'utf8' }).stdout.trim(); } catch { return ''; } };
  const top = t('/sys/fs/cgroup');
  if (top === 'cgroup2fs') return { layout: 'unified', roots: ['/sys/fs/cgroup'] };
  if (top === 'tmpfs') {
    const roots = [];
    if (t('/sys/fs/cgroup/unified') === 'cgroup2fs') roots.push('/sys/fs/cgroup/unified');
    if (fs.existsSync('/sys/fs/cgroup/systemd/cgroup.procs')) roots.push('/sys/fs/cgroup/systemd');
    return { layout: roots.length === 2 ? 'hybrid' : 'legacy', roots };
  }
  return { layout: 'none', roots: [] };
}

/**
 * Can a container be booted here? { ok: true, ... } or { ok: false, reason }.
 * Installs systemd-container (pinned) if it is missing.
 */
export async function canBootContainer({ install = true } = {}) {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root' };
  for (const cmd of ['unshare', 'nsenter', 'mount', 'flock']) {
    if (!which(cmd)) return { ok: false, reason: `${cmd} missing (util-linux)` };
  }
  if (!fs.existsSync('/usr/lib/systemd/systemd')) return { ok: false, reason: 'systemd is not installed on the host (/usr/lib/systemd/systemd)' };
  const cg = cgroupLayout();
  if (cg.roots.length === 0) return { ok: false, reason: 'no usable cgroup file system under /sys/fs/cgroup' };
  if (!which('systemd-nspawn')) {
    if (!install) return { ok: false, reason: 'systemd-nspawn missing (install systemd-container)' };
    try {
      await ensureHostPackages();
    } catch (err) {
      return { ok: false, reason: `systemd-nspawn missing and cannot be installed: ${err.message}` };
    }
  }
  return { ok: true, nspawn: which('systemd-nspawn'), cgroup: cg.layout };
}

// ---------------------------------------------------------------------------
// Debian 13 (trixie, systemd 257) root

/** The Debian mirror the host's apt uses (deb822 sources first, then sources.list). */
export function hostDebianMirror() {
  const files = [];
  const d = '/etc/apt/sources.list.d';
  try {
    for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.sources')) files.push(path.join(d, f));
  } catch { /* none */ }
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(.+)$/m.exec(stanza)?.[1].trim().split(/\s+/) ?? [];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1].trim().split(/\s+/) ?? [];
      if (/^Enabled:\s*no/im.test(stanza)) continue;
      if (!/^Types:.*\bdeb\b/m.test(stanza)) continue;
      const uri = uris.find((u) => /^https?:\/\//.test(u) && !/security/.test(u));
      if (uri && suites.some((s) => !/-security$/.test(s))) return uri.replace(/\/+$/, '');
    }
  }
  const lists = ['/etc/apt/sources.list'];
  try {
    for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.list')) lists.push(path.join(d, f));
  } catch { /* none */ }
  for (const f of lists) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)\s+(\S+)/.exec(line);
      if (m && !/security/.test(m[1]) && !/-security$/.test(m[2])) return m[1].replace(/\/+$/, '');
    }
  }
  return null;
}

function readStamp() {
  try {
    const s = JSON.parse(fs.readFileSync(TRIXIE_STAMP, 'utf8'));
    if (s && s.systemd && fs.existsSync(path.join(TRIXIE_ROOT, 'usr/lib/systemd/systemd'))) return s;
  } catch { /* not built */ }
  return null;
}

function hostMountsUnder(dir) {
  const prefix = dir.replace(/\/+$/, '');
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return text.split('\n').filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\040/g, ' '))
    .filter((mp) => mp === prefix || mp.startsWith(prefix + '/'));
}

/**
 * Builds (once) a minimal Debian 13 root with systemd 257 under
 * /var/cache/node-systemd/trixie-root, with debootstrap inside a private mount
 * namespace, under a lock so concurrent callers build it once.
 * Returns { root, systemd, built, ms }.
 */
export async function ensureTrixieRoot({ mirror, timeoutMs = 900_000, log = () => {} } = {}) {
  const have = readStamp();
  if (have) return { root: TRIXIE_ROOT, systemd: have.systemd, built: false, ms: 0 };
  if (process.getuid?.() !== 0) throw new Error('not root: cannot build the trixie root');
  mirror ??= hostDebianMirror();
  if (!mirror) throw new Error('no Debian mirror found in /etc/apt/sources.list{,.d}; pass { mirror }');
  if (!which('debootstrap')) {
    log('installing debootstrap');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: process.env.PATH || HOST_PATH };
    const inst = () => run('apt-get', ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', 'debootstrap'], { env, timeoutMs: 600_000 });
    let r = await inst();
    if (r.code !== 0) {
      await run('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=300'], { env, timeoutMs: 600_000 });
      r = await inst();
    }
    if (r.code !== 0 || !which('debootstrap')) throw new Error(`cannot install debootstrap: ${tail(r.stderr + r.stdout, 8)}`);
  }
  await fsp.mkdir(CACHE_DIR, { recursive: true });
  const tmp = `${TRIXIE_ROOT}.tmp`;
  for (const d of [tmp, TRIXIE_ROOT]) {
    const m = hostMountsUnder(d);
    if (m.length) throw new Error(`refusing to build: host mounts under ${d}: ${m.join(', ')}`);
  }
  const script = `#!/bin/sh
# Written by test/harness/container.mjs: builds the Debian 13 root. Runs under flock
# and in a private mount namespace, so debootstrap's mounts never reach the host.
set -eu
DEST=${shq(TRIXIE_ROOT)}
TMP=${shq(tmp)}
STAMP=${shq(TRIXIE_STAMP)}
if [ -f "$STAMP" ] && [ -x "$DEST/usr/lib/systemd/systemd" ]; then echo "already built"; exit 0; fi
if grep -q " $TMP[/ ]" /proc/self/mountinfo || grep -q " $DEST[/ ]" /proc/self/mountinfo; then
  echo "mounts under $TMP or $DEST, refusing to delete" >&2; exit 1
fi
rm -rf "$TMP" "$DEST" "$STAMP"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus trixie "$TMP" ${shq(mirror)}
chroot "$TMP" apt-get clean
# machine-id, hostname and friends are written per boot into the overlay
: > "$TMP/etc/machine-id"
VER=$(chroot "$TMP" dpkg-query -W -f='\${Version}' systemd)
for m in $(awk -v t="$TMP" '$5 ~ "^"t { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m" || true; done
mv "$TMP" "$DEST"
printf '{"systemd":"%s","builtAt":"%s","mirror":"%s"}\\n' "$VER" "$(date -u +%FT%TZ)" ${shq(mirror)} > "$STAMP.new"
mv "$STAMP.new" "$STAMP"
echo "built trixie root with systemd $VER"
`;
  const scriptPath = path.join(CACHE_DIR, 'build-trixie-root.sh');
  await fsp.writeFile(scriptPath, script, { mode: 0o755 });
  log(`building ${TRIXIE_ROOT} from ${mirror} (about a minute)`);
  const started = Date.now();
  const r = await run('flock', ['-w', String(Math.ceil(timeoutMs / 1000)), TRIXIE_LOCK,
    'unshare', '--mount', '--propagation', 'private', '/bin/sh', scriptPath], { timeoutMs: timeoutMs + 10_000 });
  const stamp = readStamp();
  if (r.code !== 0 || !stamp) {
    throw new Error(`building the trixie root failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${tail(r.stdout + r.stderr, 25)}`);
  }
  return { root: TRIXIE_ROOT, systemd: stamp.systemd, built: !/already built/.test(r.stdout), ms: Date.now() - started };
}

// ---------------------------------------------------------------------------
// Containers

const live = new Set();
let handlersInstalled = false;

function onExitSync() {
  for (const c of live) {
    try { c._stopSync(); } catch { /* best effort at exit */ }
  }
}

function onSignal(sig) {
  const all = [...live].map((c) => c.stop({ timeoutMs: 5_000 }).catch(() => {}));
  Promise.allSettled(all).then(() => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  });
}

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExitSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function uninstallHandlersIfIdle() {
  if (!handlersInstalled || live.size > 0) return;
  handlersInstalled = false;
  process.removeListener('exit', onExitSync);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

function machineIdFor(name) {
  // a fixed, valid (non-zero, v4-ish) machine id per container name
  const h = createHash('sha256').update(`node-systemd-harness:${name}`).digest('hex').slice(0, 32).split('');
  h[12] = '4';
  return h.join('');
}

const MASKED = [
  'getty.target', 'getty@.service', 'getty-static.service', 'console-getty.service', 'container-getty@.service',
  'serial-getty@.service', 'systemd-firstboot.service', 'systemd-networkd.service', 'systemd-networkd.socket',
  'systemd-networkd-wait-online.service', 'systemd-resolved.service', 'systemd-timesyncd.service',
];

const JOURNALD_CONF = `# written by the node-systemd test harness
[Journal]
Storage=volatile
RateLimitIntervalSec=0
RateLimitBurst=0
RuntimeMaxUse=64M
ForwardToSyslog=no
ForwardToWall=no
`;

async function writeEtc(etc, { name, variant }) {
  const w = (rel, text, mode = 0o644) => fsp.mkdir(path.dirname(path.join(etc, rel)), { recursive: true })
    .then(() => fsp.writeFile(path.join(etc, rel), text, { mode }));
  const ln = async (rel, target) => {
    await fsp.mkdir(path.dirname(path.join(etc, rel)), { recursive: true });
    await fsp.rm(path.join(etc, rel), { force: true });
    await fsp.symlink(target, path.join(etc, rel));
  };
  await fsp.mkdir(etc, { recursive: true });
  await w('machine-id', `${machineIdFor(name)}\n`, 0o444);
  await w('hostname', `${name}\n`);
  await w('hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  await w('systemd/journald.conf.d/50-node-systemd-harness.conf', JOURNALD_CONF);
  await ln('systemd/system/default.target', '/usr/lib/systemd/system/multi-user.target');
  for (const u of MASKED) await ln(`systemd/system/${u}`, '/dev/null');
  if (variant !== 'host') return;
  // The host-/usr root has no /etc of its own: give it a small one. The host's /etc is
  // not used, so none of the host's enabled services start inside.
  await ln('os-release', '../usr/lib/os-release');
  await ln('mtab', '../proc/self/mounts');
  const nss = fs.existsSync('/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2') || fs.existsSync('/usr/lib/aarch64-linux-gnu/libnss_systemd.so.2')
    ? 'files systemd' : 'files';
  await w('nsswitch.conf', `passwd: ${nss}\ngroup: ${nss}\nshadow: files\ngshadow: files\nhosts: files myhostname dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n`);
  // HOST_ETC_COPIES are copied from the host's /etc by boot.sh (cp -a is much faster
  // than Node for the thousand symlinks of /etc/alternatives)
}

// Files and directories of the host's /etc that the host-/usr root gets copies of:
// users and groups, the dynamic linker's config and cache, PAM, D-Bus policy, and the
// Debian alternatives that many /usr/bin links point through.
const HOST_ETC_COPIES = ['passwd', 'group', 'shadow', 'gshadow', 'ld.so.conf', 'ld.so.conf.d', 'ld.so.cache', 'pam.conf',
  'pam.d', 'security', 'alternatives', 'dbus-1', 'login.defs', 'shells', 'environment', 'profile', 'bash.bashrc', 'subuid',
  'subgid', 'services', 'protocols', 'localtime', 'timezone', 'debian_version'];

function validName(name) {
  return typeof name === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/.test(name);
}

function checkBindPath(p) {
  if (typeof p !== 'string' || !path.isAbsolute(p) || p.includes(':') || /\s/.test(p)) {
    throw new Error(`bind path must be absolute, without ':' or whitespace: ${JSON.stringify(p)}`);
  }
  if (!fs.existsSync(p)) throw new Error(`bind path does not exist: ${p}`);
  return path.resolve(p);
}

/** A free TCP port on 127.0.0.1 (the container shares the host's network). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Boots a container. Options:
 *   name          machine name/hostname (default nsd-<random>)
 *   systemd       '252' | 'host' (host /usr, the default) or '257' | 'trixie' (cached Debian 13 root)
 *   bind          host paths bound read-only at the same path inside
 *   bindWritable  host paths bound read-write at the same path inside
 *   bootTimeoutMs default 60 s
 *   unified       default true: pure cgroup v2 inside (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)
 *   node          257 only: host node binary bound to /usr/bin/node and /usr/local/bin/node
 *                 inside (default /usr/bin/node, else process.execPath)
 *   log           function(string) for progress lines
 */
export async function bootContainer(opts = {}) {
  const probe = await canBootContainer();
  if (!probe.ok) throw new Error(`cannot boot a container here: ${probe.reason}`);
  const c = new Container(opts);
  try {
    await c._boot();
  } catch (err) {
    await c.stop({ timeoutMs: 5_000 }).catch(() => {});
    throw err;
  }
  return c;
}

export class Container {
  constructor({ name, systemd = 'host', bind = [], bindWritable = [], bootTimeoutMs = 60_000, unified = true, node, log = () => {} } = {}) {
    this.name = name ?? `nsd-${randomBytes(4).toString('hex')}`;
    if (!validName(this.name)) throw new Error(`invalid container name ${JSON.stringify(this.name)} (letters, digits, '-', at most 63)`);
    const s = String(systemd);
    if (s === 'host' || s === '252') this.variant = 'host';
    else if (s === '257' || s === 'trixie') this.variant = 'trixie';
    else throw new Error(`systemd must be '252'/'host' or '257'/'trixie', not ${JSON.stringify(systemd)}`);
    this.requested = s;
    this.bind = bind.map(checkBindPath);
    this.bindWritable = bindWritable.map(checkBindPath);
    // the node binary bound into the trixie root (the host-/usr root has the host's /usr/bin/node)
    this.node = checkBindPath(fs.realpathSync(node ?? (fs.existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath)));
    this.bootTimeoutMs = bootTimeoutMs;
    this.unified = unified;
    this.log = log;
    this.id = `${this.name}-${randomBytes(3).toString('hex')}`;
    this.workDir = path.join(os.tmpdir(), 'node-systemd-harness', this.id);
    this.rootDir = path.join(this.workDir, 'root');
    this.consoleLog = path.join(this.workDir, 'console.log');
    this.cgroupDirs = cgroupLayout().roots.map((r) => path.join(r, CGROUP_PARENT, this.id));
    this.nspawnPid = null;
    this.pid1 = null;
    this.bootMs = null;
    this.state = null; // 'running' | 'degraded'
    this.failedUnits = [];
    this.systemdVersion = null;
    this.exited = null; // { code, signal } of nspawn
    this._exitPromise = null;
    this._stopPromise = null;
    this.stopped = false;
  }

  /** The last lines of what nspawn and the container console printed. */
  consoleTail(lines = 40) {
    try { return tail(fs.readFileSync(this.consoleLog, 'utf8'), lines); } catch { return '(no console output)'; }
  }

  _fail(what, err) {
    const detail = err ? `: ${err.message ?? err}` : '';
    const ex = this.exited ? ` (systemd-nspawn exited with ${this.exited.signal ?? this.exited.code})` : '';
    // stop() removes the work directory: keep the console log for a post-mortem
    const kept = path.join(os.tmpdir(), `node-systemd-harness-${this.id}.console.log`);
    let where = '';
    if (!this._stopRequested) {
      try { fs.copyFileSync(this.consoleLog, kept); where = ` (whole log: ${kept})`; } catch { /* no log */ }
    }
    return new Error(`container ${this.name}: ${what}${detail}${ex}\n--- last lines of nspawn/console output${where} ---\n${this.consoleTail()}`);
  }

  async _bootScript(trixie) {
    const nspawnArgs = [
      '--boot', `--directory=${this.rootDir}`, `--machine=${this.name}`, '--register=no', '--keep-unit',
      '--settings=no', '--link-journal=no', '--console=read-only', '--resolv-conf=copy-host', '--timezone=off',
    ];
    for (const b of this.bind) nspawnArgs.push(`--bind-ro=${b}`);
    for (const b of this.bindWritable) nspawnArgs.push(`--bind=${b}`);
    if (this.variant === 'trixie') {
      // only node comes from the host; the same path as on the host keeps unit files portable
      nspawnArgs.push(`--bind-ro=${this.node}:/usr/local/bin/node`, `--bind-ro=${this.node}:/usr/bin/node`);
    }
    const rootSetup = this.variant === 'host' ? `
mount -t tmpfs -o mode=0755,size=1g tmpfs "$ROOT"
mkdir -p "$ROOT/usr"
mount --bind /usr "$ROOT/usr"
mount -o remount,bind,ro "$ROOT/usr"
for l in bin lib lib64 sbin lib32 libx32; do
  if [ -L "/$l" ] || [ -d "/usr/$l" ]; then [ -e "/usr/$l" ] && ln -s "usr/$l" "$ROOT/$l"; fi
done
mkdir -p "$ROOT/etc"
for f in ${HOST_ETC_COPIES.join(' ')}; do
  if [ -e "/etc/$f" ] || [ -L "/etc/$f" ]; then cp -a "/etc/$f" "$ROOT/etc/"; fi
done
cp -a --remove-destination "$WORK/etc/." "$ROOT/etc/"
mkdir -p "$ROOT/var/lib" "$ROOT/var/log" "$ROOT/var/cache" "$ROOT/var/tmp" "$ROOT/tmp" "$ROOT/root" "$ROOT/home" \\
  "$ROOT/opt" "$ROOT/srv" "$ROOT/mnt" "$ROOT/media" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/run"
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
chmod 0700 "$ROOT/root"
` : `
mkdir -p "$WORK/ov"
mount -t tmpfs -o mode=0755,size=1g tmpfs "$WORK/ov"
mkdir -p "$WORK/ov/upper" "$WORK/ov/work"
mount -t overlay overlay -o lowerdir=${trixie},upperdir="$WORK/ov/upper",workdir="$WORK/ov/work" "$ROOT"
cp -a --remove-destination "$WORK/etc/." "$ROOT/etc/"
mkdir -p "$ROOT/opt" "$ROOT/srv" "$ROOT/usr/local/bin"
`;
    return `#!/bin/sh
# Written by test/harness/container.mjs for container ${this.name}; run as
# unshare --mount --propagation private /bin/sh boot.sh
# Every mount below lives in that private mount namespace only.
set -eu
WORK=${shq(this.workDir)}
ROOT=${shq(this.rootDir)}
# our own cgroup, so that nspawn's payload/supervisor cgroups land below it and no
# two containers (or the host) share one
for d in ${this.cgroupDirs.map(shq).join(' ')}; do
  mkdir -p "$d"
  echo $$ > "$d/cgroup.procs"
done
# nspawn wants /run/systemd/nspawn on a tmpfs; a private one, never the host's
mkdir -p /run/systemd/nspawn
mount -t tmpfs -o mode=0755,size=16m tmpfs /run/systemd/nspawn
${rootSetup}
echo "harness: root ready, exec systemd-nspawn"
exec systemd-nspawn ${nspawnArgs.map(shq).join(' ')}
`;
  }

  async _prepare() {
    let trixie = null;
    if (this.variant === 'trixie') {
      const t = await ensureTrixieRoot({ log: this.log });
      trixie = t.root;
    }
    await fsp.mkdir(this.rootDir, { recursive: true });
    await writeEtc(path.join(this.workDir, 'etc'), { name: this.name, variant: this.variant });
    const script = path.join(this.workDir, 'boot.sh');
    await fsp.writeFile(script, await this._bootScript(trixie), { mode: 0o755 });
    return script;
  }

  async _boot() {
    const started = Date.now();
    this._setup = this._prepare();
    const script = await this._setup;
    // stop() during the preparation: start nothing
    if (this._stopRequested) throw new Error(`container ${this.name}: stopped during boot`);
    const out = fs.openSync(this.consoleLog, 'a');
    const env = { PATH: HOST_PATH, LANG: 'C.UTF-8', SYSTEMD_LOG_COLOR: '0', SYSTEMD_COLORS: '0' };
    if (this.unified) env.SYSTEMD_NSPAWN_UNIFIED_HIERARCHY = '1';
    installHandlers();
    live.add(this);
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '/bin/sh', script], {
      env, stdio: ['ignore', out, out], detached: true,
    });
    fs.closeSync(out);
    this._child = child;
    this.nspawnPid = child.pid;
    this._exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => { this.exited = { code, signal }; resolve(this.exited); });
      child.on('error', (err) => { this.exited = { code: -1, signal: null, error: err }; resolve(this.exited); });
    });
    const deadline = started + this.bootTimeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    // 1. PID 1 of the container: the child of nspawn that is PID 1 of its own PID namespace
    try {
      this.pid1 = await waitUntil(() => {
        if (this.exited) throw new Error('systemd-nspawn exited during boot');
        return this._findPid1();
      }, { timeoutMs: left(), intervalMs: 10, what: "the container's PID 1" });
    } catch (err) {
      throw this._fail('boot failed', err);
    }
    // 2. the manager's private socket
    try {
      await waitUntil(() => {
        if (this.exited) throw new Error('systemd-nspawn exited during boot');
        return fs.existsSync(`/proc/${this.pid1}/root/run/systemd/private`);
      }, { timeoutMs: left(), intervalMs: 10, what: '/run/systemd/private inside' });
    } catch (err) {
      throw this._fail('boot failed', err);
    }
    // 3. boot finished
    const r = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: left() });
    this.state = r.stdout.trim();
    this.bootMs = Date.now() - started;
    if (this.state === 'degraded') {
      const f = await this.exec(['systemctl', 'list-units', '--failed', '--plain', '--no-legend', '--no-pager']);
      this.failedUnits = f.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
      this.log(`container ${this.name} is degraded; failed units: ${this.failedUnits.join(', ')}`);
    } else if (this.state !== 'running') {
      throw this._fail(`boot did not reach running/degraded: is-system-running said ${JSON.stringify(this.state)} (exit ${r.code}${r.timedOut ? ', timed out' : ''}) ${r.stderr.trim()}`);
    }
    const v = await this.exec(['systemctl', '--version']);
    this.systemdVersion = /systemd (\d+)/.exec(v.stdout)?.[1] ?? null;
    this.log(`container ${this.name}: systemd ${this.systemdVersion} ${this.state} in ${this.bootMs} ms (pid1 ${this.pid1})`);
  }

  _findPid1() {
    const self = fs.readlinkSync('/proc/self/ns/pid');
    const candidates = [];
    for (const ent of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(ent)) continue;
      const st = procStatus(ent);
      if (!st) continue;
      if (Number(st.PPid) !== this.nspawnPid) continue;
      const nspid = (st.NSpid || '').split(/\s+/);
      if (nspid.length >= 2 && nspid[nspid.length - 1] === '1') candidates.push(Number(ent));
    }
    for (const pid of candidates) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/ns/pid`) === self) continue;
        // wait until it has exec'd systemd (before that it is nspawn's inner child)
        const exe = fs.readlinkSync(`/proc/${pid}/exe`);
        if (/systemd$/.test(exe) || /\/init$/.test(exe)) return pid;
      } catch { /* gone or not yet */ }
    }
    return null;
  }

  /**
   * Runs argv inside the container (all its namespaces, its root, env -i PATH=...).
   * Returns { code, stdout, stderr, signal, timedOut, ms }. Options: timeoutMs (30 s),
   * env (object), input (stdin), cwd (inside), check (throw on non-zero exit).
   */
  async exec(argv, { timeoutMs = 30_000, env = {}, input, cwd, check = false } = {}) {
    if (!this.pid1 || this.stopped) throw new Error(`container ${this.name} is not running`);
    if (!Array.isArray(argv) || argv.length === 0) throw new Error('exec needs a non-empty argv array');
    const envArgs = [`PATH=${INNER_PATH}`];
    for (const [k, v] of Object.entries(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad env name ${k}`);
      envArgs.push(`${k}=${v}`);
    }
    const args = ['--target', String(this.pid1), '--mount', '--uts', '--ipc', '--pid', '--cgroup', '--root', '--wd', '--',
      '/usr/bin/env', '-i', ...(cwd ? ['-C', cwd] : []), ...envArgs, ...argv.map(String)];
    const r = await run('nsenter', args, { timeoutMs, input, env: { PATH: HOST_PATH }, spareLeader: true });
    if (r.timedOut) r.stderr += `\n[harness] timed out after ${timeoutMs} ms: ${argv.join(' ')}`;
    if (check && r.code !== 0) {
      throw new Error(`container ${this.name}: \`${argv.join(' ')}\` exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${tail(r.stderr || r.stdout, 15)}`);
    }
    return r;
  }

  /** systemctl ARGS... inside (returns the exec result). */
  systemctl(...args) {
    const opts = typeof args[args.length - 1] === 'object' ? args.pop() : {};
    return this.exec(['systemctl', ...args], opts);
  }

  /** `systemctl show -p ...` parsed into an object of strings. */
  async show(unit, props = [], opts = {}) {
    const args = ['systemctl', 'show', '--no-pager'];
    for (const p of props) args.push('-p', p);
    args.push('--', unit);
    const r = await this.exec(args, { ...opts, check: true });
    const o = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) o[line.slice(0, i)] = line.slice(i + 1);
    }
    return o;
  }

  /** Writes a file inside the container (parents created). */
  async writeFile(file, content, { mode } = {}) {
    if (!path.isAbsolute(file)) throw new Error(`writeFile needs an absolute path, got ${file}`);
    const script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"' + (mode !== undefined ? ' && chmod "$2" "$1"' : '');
    await this.exec(['/bin/sh', '-c', script, 'sh', file, mode !== undefined ? mode.toString(8) : ''], { input: content, check: true });
  }

  async readFile(file) {
    const r = await this.exec(['cat', '--', file], { check: true });
    return r.stdout;
  }

  /** Writes /etc/systemd/system/NAME and runs daemon-reload. */
  async installUnit(name, text) {
    if (!/^[A-Za-z0-9:_.@\\-]+$/.test(name)) throw new Error(`bad unit name ${name}`);
    await this.writeFile(`/etc/systemd/system/${name}`, text);
    await this.exec(['systemctl', 'daemon-reload'], { check: true, timeoutMs: 60_000 });
  }

  /** journalctl -u UNIT -o cat output (after journalctl --sync). */
  async journal(unit, { sync = true, lines, timeoutMs } = {}) {
    if (sync) await this.exec(['journalctl', '--sync'], { timeoutMs: 10_000 });
    const args = ['journalctl', '-u', unit, '-o', 'cat', '--no-pager'];
    if (lines) args.push('-n', String(lines));
    const r = await this.exec(args, { timeoutMs });
    return r.stdout;
  }

  /** Polls the journal of UNIT until it matches re (RegExp or string). */
  async waitForJournal(unit, re, { timeoutMs = 10_000 } = {}) {
    const test = typeof re === 'string' ? (t) => t.includes(re) : (t) => re.test(t);
    let last = '';
    try {
      return await waitUntil(async () => {
        last = await this.journal(unit);
        return test(last) ? last : null;
      }, { timeoutMs, intervalMs: 100, what: `${re} in the journal of ${unit}` });
    } catch (err) {
      throw new Error(`${err.message}; journal was:\n${tail(last, 20)}`);
    }
  }

  /** Polls `systemctl show` until every given property has the given value. */
  async waitForProps(unit, want, { timeoutMs = 10_000 } = {}) {
    let last = {};
    try {
      return await waitUntil(async () => {
        last = await this.show(unit, Object.keys(want));
        return Object.entries(want).every(([k, v]) => (v instanceof RegExp ? v.test(last[k]) : last[k] === String(v))) ? last : null;
      }, { timeoutMs, intervalMs: 50, what: `${unit} to have ${JSON.stringify(want)}` });
    } catch (err) {
      throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
    }
  }

  /** PIDs (host view) of every process in the container's cgroups. */
  pids() {
    const pids = new Set();
    const walk = (dir) => {
      let ents;
      try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      try {
        for (const p of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      } catch { /* removed meanwhile */ }
      for (const e of ents) if (e.isDirectory()) walk(path.join(dir, e.name));
    };
    for (const d of this.cgroupDirs) walk(d);
    if (this.pid1 && pidAlive(this.pid1)) pids.add(this.pid1);
    if (this.nspawnPid && pidAlive(this.nspawnPid)) pids.add(this.nspawnPid);
    pids.delete(process.pid);
    return [...pids].filter(pidAlive);
  }

  _killLeftovers() {
    for (const pid of this.pids()) {
      if (pid <= 1 || pid === process.pid) continue;
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  _removeCgroups() {
    const left = [];
    const rmTree = (dir) => {
      let ents = [];
      try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of ents) if (e.isDirectory()) rmTree(path.join(dir, e.name));
      try { fs.rmdirSync(dir); } catch (err) { if (err.code !== 'ENOENT') left.push(`${dir} (${err.code})`); }
    };
    for (const d of this.cgroupDirs) {
      rmTree(d);
      // the shared parent, if we were the last user
      try { fs.rmdirSync(path.dirname(d)); } catch { /* others still there */ }
    }
    return left;
  }

  _removeWorkDir() {
    const m = hostMountsUnder(this.workDir);
    if (m.length) return `mounts on the host under ${this.workDir}: ${m.join(', ')}`;
    fs.rmSync(this.workDir, { recursive: true, force: true });
    try { fs.rmdirSync(path.dirname(this.workDir)); } catch { /* others still there */ }
    return null;
  }

  /**
   * Powers the container off (SIGRTMIN+4 to PID 1), waits up to timeoutMs, then kills
   * what is left by PID (from the container's cgroups), removes the cgroups and the
   * work directory. Idempotent. Resolves to { clean, pids, cgroups, ms, forced }.
   */
  stop({ timeoutMs = 20_000 } = {}) {
    this._stopRequested = true;
    this._stopPromise ??= this._stop(timeoutMs);
    return this._stopPromise;
  }

  async _stop(timeoutMs) {
    const started = Date.now();
    let forced = false;
    // let a boot that is still writing its files finish that (it then starts nothing)
    if (this._setup) await this._setup.catch(() => {});
    const exitedWithin = (ms) => {
      if (!this._exitPromise || this.exited) return Promise.resolve(true);
      let timer;
      return Promise.race([
        this._exitPromise.then(() => true),
        new Promise((r) => { timer = setTimeout(() => r(false), ms); }),
      ]).finally(() => clearTimeout(timer));
    };
    if (this.pid1 && pidAlive(this.pid1) && !this.exited) {
      try { process.kill(this.pid1, SIGRTMIN_PLUS_4); } catch { /* gone */ }
      if (!(await exitedWithin(timeoutMs))) {
        forced = true;
        this.log(`container ${this.name}: no poweroff within ${timeoutMs} ms, killing PID 1`);
      }
    }
    this.stopped = true;
    if (!this.pid1 && !this.exited && this.nspawnPid) {
      // stopped during boot, before PID 1 was found: the cgroup sweep below gets the rest
      forced = true;
      try { process.kill(this.nspawnPid, 'SIGKILL'); } catch { /* gone */ }
      await exitedWithin(3_000);
    }
    if (!this.exited || pidAlive(this.pid1)) {
      // killing the container's PID 1 kills its whole PID namespace; nspawn then exits
      if (this.pid1 && pidAlive(this.pid1)) { forced = true; try { process.kill(this.pid1, 'SIGKILL'); } catch { /* gone */ } }
      if (!(await exitedWithin(3_000)) && this.nspawnPid) {
        forced = true;
        try { process.kill(this.nspawnPid, 'SIGKILL'); } catch { /* gone */ }
        await exitedWithin(3_000);
      }
    }
    // whatever is left in our cgroups, by PID
    let pids = [];
    for (let i = 0; i < 50; i++) {
      pids = this.pids();
      if (pids.length === 0) break;
      forced = true;
      this._killLeftovers();
      await sleep(50);
    }
    let cgroups = [];
    for (let i = 0; i < 40; i++) {
      cgroups = this._removeCgroups();
      if (cgroups.length === 0) break;
      await sleep(50);
    }
    const mounts = this._removeWorkDir();
    live.delete(this);
    uninstallHandlersIfIdle();
    const result = { clean: pids.length === 0 && cgroups.length === 0 && !mounts, pids, cgroups, mounts, forced, ms: Date.now() - started };
    this.stopResult = result;
    if (!result.clean) this.log(`container ${this.name}: stop left ${JSON.stringify(result)}`);
    return result;
  }

  /** Synchronous last-resort cleanup for process 'exit'. */
  _stopSync() {
    if (this.stopResult) return;
    this.stopped = true;
    for (const pid of [this.pid1, this.nspawnPid]) {
      if (pid && pidAlive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    const wait = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 100; i++) {
      this._killLeftovers();
      if (this.pids().length === 0) break;
      Atomics.wait(wait, 0, 0, 20);
    }
    for (let i = 0; i < 50; i++) {
      if (this._removeCgroups().length === 0) break;
      Atomics.wait(wait, 0, 0, 20);
    }
    try { this._removeWorkDir(); } catch { /* best effort */ }
    live.delete(this);
  }
}

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Start-up checks for a supervised service: misconfigurations that otherwise
 * end in a start timeout or a SIGKILL with nothing in the journal pointing at
 * the cause. Each returns a finding (or undefined) without side effects, so the
 * lifecycle and a doctor command can both run them.
 */

const PACKAGE_MANAGERS = new Set(['npm', 'npx', 'yarn', 'pnpm', 'pnpx', 'corepack', 'bun', 'pm2', 'npm-cli.js', 'npx-cli.js', 'yarn.js', 'yarn.cjs', 'pnpm.cjs', 'pnpm.js']);
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'fish', 'busybox']);

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The kernel's short name (/proc/PID/comm). */
  comm: string;
  argv: string[];
}

/**
 * PROC/PID: comm, argv and the parent; undefined when it is gone or unreadable.
 * `proc` is /proc but for tests. ppid is 0 when the stat line cannot be read.
 */
export function readProcess(pid: number, proc = '/proc'): ProcessInfo | undefined {
  let comm: string;
  let argv: string[];
  try {
    comm = readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
    argv = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  } catch {
    return undefined;
  }
  let ppid = 0;
  try {
    // The state line's fields after the ")" of the name: state, ppid.
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) || 0;
  } catch {
    // Only the grandparent is unknown then.
  }
  return { pid, ppid, comm, argv };
}

/** The package manager's name when the process is one ("npm" for "node .../npm-cli.js"). */
function packageManagerName(info: ProcessInfo): string | undefined {
  // npm runs as "node .../npm-cli.js" (its title says "npm"); pnpm and yarn alike.
  const names = [info.comm, ...info.argv.slice(0, 2).map((arg) => basename(arg)), info.argv[0]?.split(' ')[0] ?? ''];
  const name = names.find((candidate) => PACKAGE_MANAGERS.has(candidate));
  return name?.replace(/(-cli)?\.c?js$/, '');
}

function isShell(info: ProcessInfo): boolean {
  return SHELLS.has(info.comm) || SHELLS.has(basename(info.argv[0] ?? ''));
}

export interface WrapperFinding {
  kind: 'package-manager' | 'shell';
  /** The wrapper's short name: npm, yarn, sh, bash, ... */
  tool: string;
  /** The wrapping process: its pid and command line. */
  pid: number;
  command: string;
  message: string;
}

/**
 * Whether this process was started through npm/npx/yarn/pnpm or a shell rather
 * than by systemd directly. Then the main process systemd watches is the
 * wrapper: under NotifyAccess=main (the default of Type=notify) READY=1 from
 * this process is ignored, and SIGTERM reaches the wrapper, which may not pass
 * it on. Looks at the parent, and through one shell at its parent (npm runs
 * scripts with `sh -c`).
 */
export function findWrapper(pid = process.pid, proc = '/proc'): WrapperFinding | undefined {
  const self = readProcess(pid, proc);
  return self && self.ppid > 1 ? wrapperAt(self.ppid, proc) : undefined;
}

/** findWrapper() from the parent's pid on (for callers that know the parent only). */
export function wrapperAt(parentPid: number, proc = '/proc'): WrapperFinding | undefined {
  const parent = readProcess(parentPid, proc);
  if (!parent) return undefined;
  const grandparent = isShell(parent) && parent.ppid > 1 ? readProcess(parent.ppid, proc) : undefined;
  const parentManager = packageManagerName(parent);
  const grandparentManager = grandparent && packageManagerName(grandparent);
  const manager = parentManager !== undefined ? parent : grandparentManager !== undefined ? grandparent : undefined;
  const wrapper = manager ?? (isShell(parent) ? parent : undefined);
  if (!wrapper) return undefined;
  const tool = parentManager ?? grandparentManager ?? (wrapper.comm || basename(wrapper.argv[0] ?? 'sh'));
  const command = wrapper.argv.join(' ') || wrapper.comm;
  const kind = manager ? 'package-manager' : 'shell';
  const fix = manager
    ? `Start node directly: ExecStart=/usr/bin/node ${guessScript()} in the unit, not \`${command}\`.`
    : `Start node directly (ExecStart=/usr/bin/node ${guessScript()}), or end the script with \`exec node ...\` so that node replaces the shell.`;
  return {
    kind,
    tool,
    pid: wrapper.pid,
    command,
    message:
      `This service runs under ${kind === 'package-manager' ? 'a package manager' : 'a shell'} (pid ${wrapper.pid}: ${command}), not as systemd's main process: ` +
      `under NotifyAccess=main systemd ignores READY=1 from node (the start times out), and SIGTERM goes to the wrapper. ${fix}`,
  };
}

function guessScript(): string {
  return process.argv[1] ?? 'app.js';
}

/**
 * What an error from NOTIFY_SOCKET means for the unit, when the fix is in the
 * unit file: EAFNOSUPPORT comes from RestrictAddressFamilies= without AF_UNIX.
 */
export function explainNotifyFailure(error: unknown): string | undefined {
  const code = (error as { syscallCode?: string; code?: string } | null)?.syscallCode ?? (error as { code?: string } | null)?.code;
  if (code !== 'EAFNOSUPPORT') return undefined;
  return 'NOTIFY_SOCKET cannot be used: the process may not create AF_UNIX sockets (EAFNOSUPPORT). The unit\'s RestrictAddressFamilies= must include AF_UNIX, which sd_notify needs (for example RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6).';
}

/**
 * What the installed systemd can tell: its version, `systemd-analyze verify` and
 * `security --offline=yes` on a file, and `systemctl cat` of an installed unit.
 * Each returns undefined (never throws) when the tool is missing, so the CLI works
 * on a machine without systemd and says what it could not check.
 */
import { spawnSync } from 'node:child_process';
import type { UnitSource } from './unit-file.js';

function run(command: string, args: string[], timeoutMs = 20_000): { code: number; stdout: string; stderr: string } | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  if (r.error) return undefined;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** The major version of the installed systemd ("systemd 252 (252.39-1~deb12u1)" gives 252). */
export function installedSystemdVersion(): number | undefined {
  const r = run('systemctl', ['--version']);
  const m = r && /^systemd (\d+)/m.exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

export interface VerifyResult {
  ok: boolean;
  /** One line each, as systemd-analyze printed them. */
  messages: string[];
}

/** `systemd-analyze verify FILE...` (the directory of each file joins the unit search path). */
export function analyzeVerify(files: string[]): VerifyResult | undefined {
  const r = run('systemd-analyze', ['verify', '--no-pager', ...files], 60_000);
  if (!r) return undefined;
  const messages = `${r.stderr}${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return { ok: r.code === 0, messages };
}

export interface SecurityResult {
  score: number;
  rating: string;
}

/** The exposure score of `systemd-analyze security --offline=yes FILE` (systemd 250+). */
export function analyzeSecurity(file: string): SecurityResult | undefined {
  const r = run('systemd-analyze', ['security', '--offline=yes', '--no-pager', file], 60_000);
  const m = r && /Overall exposure level for \S+:\s*([\d.]+)\s+(\S+)/.exec(`${r.stdout}${r.stderr}`);
  return m ? { score: Number(m[1]), rating: m[2]!.replace(/\x1b\[[0-9;]*m/g, '') } : undefined;
}

/**
 * An installed unit's files as `systemctl cat NAME` prints them: each file after a
 * "# /path" line, the main file first, then its drop-ins in the order applied.
 */
export function systemctlCat(name: string): UnitSource[] | undefined {
  const r = run('systemctl', ['cat', '--no-pager', '--', name]);
  return r && r.code === 0 ? parseSystemctlCat(r.stdout) : undefined;
}

/** Splits `systemctl cat` output into its files ("# /path" opens each). */
export function parseSystemctlCat(stdout: string): UnitSource[] | undefined {
  const sources: UnitSource[] = [];
  for (const line of stdout.split('\n')) {
    const header = /^# (\/\S+\.(service|socket|conf))$/.exec(line);
    if (header) sources.push({ file: header[1]!, text: '' });
    else if (sources.length > 0) sources[sources.length - 1]!.text += `${line}\n`;
  }
  return sources.length > 0 ? sources : undefined;
}

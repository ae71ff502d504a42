import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/**
 * The default SYSLOG_IDENTIFIER: the unit's name when systemd started us (read
 * from /proc/self/cgroup, only when INVOCATION_ID says systemd did), else the
 * `name` of the package.json in the working directory (or npm_package_name), else
 * "node". journalctl -t and the prefix of every line use it.
 */
export function defaultIdentifier(): string {
  return (cached ??= unitName() ?? packageName() ?? 'node');
}

function unitName(): string | undefined {
  if (!process.env.INVOCATION_ID) return undefined;
  try {
    // cgroup v2: "0::/system.slice/app.service"; v1 has a "name=systemd" line.
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
      if (!line.startsWith('0::') && !line.includes('name=systemd')) continue;
      // The innermost unit: a user service sits below user@1000.service.
      const units = [...path.matchAll(/\/([^/]+)\.service(?=\/|$)/g)];
      const unit = units.at(-1)?.[1];
      if (unit) return unit;
    }
  } catch {
    // No /proc: fall through to the package name.
  }
  return undefined;
}

function packageName(): string | undefined {
  if (process.env.npm_package_name) return process.env.npm_package_name;
  try {
    const name = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && name.length > 0 ? name : undefined;
  } catch {
    return undefined;
  }
}

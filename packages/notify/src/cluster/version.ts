import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The "version" of the package.json nearest the worker module, read now (after
 * a deploy it is the new one). Symlinks are resolved first, so a `current ->
 * releases/1.4.0` switch is seen. "unknown" when there is none.
 */
export function versionNear(modulePath: string): string {
  let dir: string;
  try {
    dir = dirname(realpathSync(modulePath));
  } catch {
    return 'unknown';
  }
  for (;;) {
    try {
      const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof version === 'string' && version !== '') return version;
    } catch {
      // No package.json here (or not JSON): look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/**
 * ExecStart= taken apart: the prefixes systemd allows ("-", "@", "+", "!", ":", "|"),
 * the program and its arguments, and the script node runs.
 */
import { words } from './unit-file.js';

export interface ExecStart {
  program: string;
  args: string[];
  /** The script node runs (the first argument that is not an option), when the program is node. */
  script?: string;
}

const NODE_OPTIONS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file', '--title', '--inspect-port']);

export function parseExecStart(value: string): ExecStart | undefined {
  const all = words(value.replace(/^[-@+!:|]+/, ''));
  const program = all[0];
  if (program === undefined) return undefined;
  const args = all.slice(1);
  if (!isNode(program)) return { program, args };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (NODE_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return { program, args, script: arg };
  }
  return { program, args };
}

export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export const isNode = (program: string): boolean => /^(node|nodejs|node\d+)$/.test(basename(program));

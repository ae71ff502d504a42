/**
 * What `node-systemd unit` learns from the app itself: its package.json (name,
 * description, main/bin, engines) and whether its entry registers a reload hook.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface PackageInfo {
  name?: string;
  description?: string;
  homepage?: string;
  /** The entry: "main", else the first "bin". */
  entry?: string;
  /** engines.node, as written. */
  engines?: string;
}

export function readPackage(dir: string): PackageInfo | undefined {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const bin = typeof json.bin === 'string' ? json.bin : json.bin && typeof json.bin === 'object' ? Object.values(json.bin as Record<string, string>)[0] : undefined;
  const engines = json.engines as Record<string, unknown> | undefined;
  const info: PackageInfo = {};
  const name = str(json.name);
  if (name) info.name = name;
  const description = str(json.description);
  if (description) info.description = description;
  const homepage = str(json.homepage);
  if (homepage) info.homepage = homepage;
  const entry = str(json.main) ?? str(bin);
  if (entry) info.entry = entry;
  const node = str(engines?.node);
  if (node) info.engines = node;
  return info;
}

/** The unit name for a package name: the part after the scope, in unit-name characters. */
export const unitNameOf = (packageName: string): string => packageName.replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9:_.-]/g, '-');

/**
 * Whether the entry passes a reload hook to node-systemd (`reload: ...` or
 * `reload,` in an options object, or `.reload(`). A guess from the source text:
 * `--reload` / `--no-reload` decide when it is wrong.
 */
export function hasReloadHook(entryFile: string): boolean | undefined {
  if (!existsSync(entryFile)) return undefined;
  const source = readFileSync(entryFile, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
  return /\breload\s*[:(,}]/.test(source);
}

/** The lowest major version engines.node allows ("^22", ">=20.11", "22.x || 24"), when it says. */
export function lowestNodeMajor(engines: string | undefined): number | undefined {
  const majors = [...(engines ?? '').matchAll(/(\d+)(?:\.\d+|\.x)*/g)].map((m) => Number(m[1]));
  return majors.length > 0 ? Math.min(...majors) : undefined;
}

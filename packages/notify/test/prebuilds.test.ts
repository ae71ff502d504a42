// The shipped binaries, read as ELF files (binutils' readelf knows every
// architecture): one per Linux architecture, each serving glibc 2.28+ and musl.
// scripts/prebuild.cjs builds them; `pnpm build` and scripts/test.mjs run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

const packageDir = join(repoRoot, 'packages', 'notify');

/** process.arch -> what readelf must say, and the glibc of that architecture Debian ships. */
const TARGETS = [
  { arch: 'x64', machine: 'Advanced Micro Devices X86-64', elfClass: 'ELF64', glibc: '/lib/x86_64-linux-gnu/libc.so.6' },
  { arch: 'arm64', machine: 'AArch64', elfClass: 'ELF64', glibc: '/usr/aarch64-linux-gnu/lib/libc.so.6' },
  { arch: 'arm', machine: 'ARM', elfClass: 'ELF32', glibc: '/usr/arm-linux-gnueabihf/lib/libc.so.6' },
] as const;

/** Debian's musl (package `musl`): the same symbol set on every architecture. */
const MUSL = '/usr/lib/x86_64-linux-musl/libc.so';

const readelf = (...args: string[]): string => execFileSync('readelf', ['-W', ...args], { encoding: 'utf8' });
const binary = (arch: string): string => join(packageDir, 'prebuilds', `linux-${arch}`, 'notify.node');

/** Dynamic symbols as [name, version, section] rows ('UND' = needed from elsewhere). */
function dynamicSymbols(file: string, defaultOnly = false): { name: string; version: string; section: string }[] {
  return readelf('--dyn-syms', file)
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 8 && /^\d+:$/.test(cols[0]!))
    .map((cols) => {
      const [name, version = ''] = cols[7]!.split(defaultOnly ? '@@' : /@+/);
      return { name: name!, version, section: cols[6]! };
    });
}

/**
 * The version an unversioned reference binds to: the default (`@@`) one, as ld.so
 * picks it. A name with only hidden (`@`) versions is not bound at all.
 */
function defaultVersions(libc: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const symbol of dynamicSymbols(libc, true)) {
    if (symbol.section !== 'UND' && symbol.version !== '') versions.set(symbol.name, symbol.version);
  }
  return versions;
}

const newerThan228 = (version: string): boolean => {
  const [major, minor] = version.replace('GLIBC_', '').split('.').map(Number);
  return major! > 2 || (major === 2 && minor! > 28);
};

for (const target of TARGETS) {
  test(`prebuild linux-${target.arch}: ${target.machine}, no libc named, no symbol versions, every libc symbol in glibc 2.28 and in musl`, () => {
    const file = binary(target.arch);
    assert.ok(existsSync(file), `${file} is missing: node packages/notify/scripts/prebuild.cjs --toolchain --all builds it`);
    const header = readelf('-h', file);
    assert.match(header, new RegExp(`Class:\\s+${target.elfClass}\\b`));
    assert.match(header, new RegExp(`Machine:\\s+${target.machine}\\n`));
    assert.match(header, /Type:\s+DYN/);
    if (target.arch === 'arm') assert.match(header, /hard-float ABI/, 'armv7 hard-float (gnueabihf, musleabihf)');

    // No NEEDED: the binary binds to whichever libc the node process loaded (glibc or musl).
    const dynamic = readelf('-d', file);
    assert.doesNotMatch(dynamic, /\(NEEDED\)/);
    // No version references at all, so no GLIBC_2.29+ (or any GLIBC_) requirement.
    assert.doesNotMatch(readelf('-V', file), /GLIBC_|Version needs/);
    assert.doesNotMatch(readFileSync(file).toString('latin1'), /GLIBC_/);

    const undefinedSymbols = dynamicSymbols(file).filter((s) => s.section === 'UND' && s.name !== '').map((s) => s.name);
    const libcSymbols = undefinedSymbols.filter((name) => !name.startsWith('napi_'));
    assert.ok(libcSymbols.includes('sendmsg') && libcSymbols.includes('__errno_location'), `reads the symbols: ${libcSymbols.join(' ')}`);
    assert.ok(undefinedSymbols.some((name) => name.startsWith('napi_')), 'and the Node-API ones');

    // glibc: an unversioned reference binds to the default version; each must be ≤ 2.28
    // (fstat's is GLIBC_2.33, which is why socketInfo() does without it).
    const glibc = defaultVersions(target.glibc);
    for (const name of libcSymbols) {
      const version = glibc.get(name);
      assert.ok(version, `${name} is not exported by ${target.glibc}`);
      assert.ok(!newerThan228(version), `${name} binds to ${name}@${version}, newer than glibc 2.28`);
    }
    // musl: every one is exported by Debian's musl libc.so.
    const musl = new Set(dynamicSymbols(MUSL).filter((s) => s.section !== 'UND').map((s) => s.name));
    const missing = libcSymbols.filter((name) => !musl.has(name));
    assert.deepEqual(missing, [], `not exported by musl's ${MUSL}`);
  });
}

test('prebuilds are reproducible: building again gives identical bytes', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'nsd-prebuild-'));
  try {
    execFileSync(process.execPath, [join(packageDir, 'scripts', 'prebuild.cjs'), '--all', '--out', out], { stdio: 'pipe' });
    for (const { arch } of TARGETS) {
      const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
      assert.equal(sha(join(out, `linux-${arch}`, 'notify.node')), sha(binary(arch)), `linux-${arch}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

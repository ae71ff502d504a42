#!/usr/bin/env node
'use strict';
// Builds the prebuilt addons the package ships, one per Linux architecture:
//
//   prebuilds/linux-x64/notify.node     x86-64
//   prebuilds/linux-arm64/notify.node   AArch64 (Graviton, Ampere, Raspberry Pi 4/5 64-bit)
//   prebuilds/linux-arm/notify.node     ARMv7 hard-float (Raspberry Pi 2/3/4 32-bit)
//
//   node scripts/prebuild.cjs              build every target whose compiler is installed
//                                          (`pnpm build` runs this; others are listed as skipped)
//   node scripts/prebuild.cjs --all        fail unless all three were built (publishing, CI)
//   node scripts/prebuild.cjs --toolchain  first apt-get install the pinned compilers (root)
//   node scripts/prebuild.cjs --out DIR    write DIR/linux-<arch>/notify.node instead
//
// Why this route: Debian's own gcc 12 and its cross compilers, pinned below to exact
// package versions, build from this one C file with the Node-API headers of the
// pinned npm package node-api-headers (not whatever Node runs the build). A Zig
// compiler from npm would also cross-compile, but it is a 50 MB download of a second
// toolchain to build a 13 kB file that Debian's packaged gcc builds as well.
//
// Why one binary per architecture serves glibc and musl: it is linked with -nostdlib,
// so it names no libc (no NEEDED entry) and no symbol versions. Its dozen undefined
// symbols (socket, sendmsg, malloc, __errno_location, ...) bind to whatever libc the
// node process already loaded. Every one of them is exported by glibc 2.28 and by
// musl (test/prebuilds.test.ts checks both against the ELF). No stack protector and
// no _FORTIFY_SOURCE, which would call __stack_chk_fail / __*_chk, glibc-only names.
//
// Reproducible: no build id, no debug info, fixed flags and stripped; building twice
// gives identical bytes, and the sha256 of each file is printed.
const { execFileSync, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

/** Exact Debian 12 package versions: the same compilers tomorrow give the same bytes. */
const TOOLCHAIN = [
  'gcc-12=12.2.0-14+deb12u1',
  'gcc-12-aarch64-linux-gnu=12.2.0-14cross1',
  'gcc-12-arm-linux-gnueabihf=12.2.0-14cross1',
  'libc6-dev-arm64-cross=2.36-8cross1',
  'libc6-dev-armhf-cross=2.36-8cross1',
  'binutils-aarch64-linux-gnu=2.40-2',
  'binutils-arm-linux-gnueabihf=2.40-2',
  'binutils-x86-64-linux-gnu=2.40-2',
];

/**
 * Not for the build, so not pinned (their bytes never reach a binary): the tests
 * check the binaries against musl's libc.so and the cross glibc, and load them
 * under qemu with Node's arm builds and under musl's own loader.
 */
const TEST_TOOLS = [
  'musl', 'musl-tools', 'qemu-user-static',
  'libc6-arm64-cross', 'libc6-armhf-cross', 'libstdc++6-arm64-cross', 'libstdc++6-armhf-cross',
];

/** process.arch -> the compiler and the ELF machine the binary must carry. */
const TARGETS = [
  { arch: 'x64', triple: 'x86_64-linux-gnu', machine: 62, flags: [] },
  { arch: 'arm64', triple: 'aarch64-linux-gnu', machine: 183, flags: [] },
  // Debian's armhf default (ARMv7-A, Thumb-2, VFPv3-D16), spelled out so it never drifts.
  { arch: 'arm', triple: 'arm-linux-gnueabihf', machine: 40, flags: ['-march=armv7-a+fp', '-mfloat-abi=hard', '-mthumb'] },
];

const CFLAGS = [
  '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared',
  '-nostdlib', '-fno-stack-protector', '-U_FORTIFY_SOURCE', '-D_FORTIFY_SOURCE=0',
  '-fvisibility=hidden', '-fno-ident', '-DNAPI_VERSION=8',
  '-Wl,--build-id=none', '-Wl,-z,noexecstack', '-Wl,--hash-style=gnu',
];

function onPath(command) {
  return spawnSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function nodeApiHeaders() {
  const dir = path.join(path.dirname(require.resolve('node-api-headers/package.json', { paths: [root] })), 'include');
  if (!fs.existsSync(path.join(dir, 'node_api.h'))) throw new Error(`no node_api.h in ${dir}`);
  return dir;
}

function installToolchain() {
  if (process.getuid && process.getuid() !== 0) throw new Error('--toolchain runs apt-get and needs root');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const missing = [...TOOLCHAIN, ...TEST_TOOLS].filter((spec) => {
    const [name, version] = spec.split('=');
    const got = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status} ${Version}', name], { encoding: 'utf8' });
    return got.status !== 0 || !got.stdout.startsWith('installed ') || (version !== undefined && got.stdout !== `installed ${version}`);
  });
  if (missing.length === 0) return;
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

function build(target, headers, outDir) {
  const cc = `${target.triple}-gcc-12`;
  const strip = `${target.triple}-strip`;
  if (!onPath(cc) || !onPath(strip)) return { ...target, skipped: `${cc} not installed` };
  const output = path.join(outDir, `linux-${target.arch}`, 'notify.node');
  fs.mkdirSync(path.dirname(output), { recursive: true });
  // Relative source path and a fixed cwd: nothing of this checkout ends up in the file.
  execFileSync(cc, [...CFLAGS, ...target.flags, `-I${headers}`, '-o', output, 'native/notify.c'], { cwd: root, stdio: 'inherit' });
  execFileSync(strip, ['--strip-all', '--remove-section=.comment', output], { stdio: 'inherit' });
  const bytes = fs.readFileSync(output);
  if (bytes.readUInt16LE(18) !== target.machine) throw new Error(`${output}: ELF machine ${bytes.readUInt16LE(18)}, expected ${target.machine}`);
  return { ...target, output, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function main() {
  const argv = process.argv.slice(2);
  const args = new Set(argv);
  const outDir = args.has('--out') ? path.resolve(argv[argv.indexOf('--out') + 1]) : path.join(root, 'prebuilds');
  if (args.has('--toolchain')) installToolchain();
  const headers = nodeApiHeaders();
  const results = TARGETS.map((target) => build(target, headers, outDir));
  for (const r of results) {
    if (r.skipped) console.log(`prebuild linux-${r.arch}: skipped (${r.skipped}; node scripts/prebuild.cjs --toolchain installs it)`);
    else console.log(`prebuild linux-${r.arch}: ${path.relative(process.cwd(), r.output)} ${r.size} bytes sha256 ${r.sha256}`);
  }
  const skipped = results.filter((r) => r.skipped);
  if (args.has('--all') && skipped.length > 0) {
    console.error(`prebuild: --all, but ${skipped.map((r) => `linux-${r.arch}`).join(', ')} could not be built`);
    process.exit(1);
  }
}

module.exports = { TARGETS, TOOLCHAIN, TEST_TOOLS };
if (require.main === module) main();

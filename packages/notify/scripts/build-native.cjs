#!/usr/bin/env node
'use strict';
// Compiles native/notify.c into prebuilds/<platform>-<arch>/notify.<libc>.node with
// the system C compiler and Node's own headers. One C file, no node-gyp needed;
// the binary is Node-API 8, so one build serves every Node version we support.
//
//   node scripts/build-native.cjs           build the prebuilt (used by `pnpm build`)
//   node scripts/build-native.cjs --install  used by the `install` lifecycle script:
//                                            keep a working prebuilt, otherwise try
//                                            to compile, and never fail the install.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { binaryTarget } = require('./target.cjs');

const root = path.join(__dirname, '..');
const installMode = process.argv.includes('--install');
const target = binaryTarget();
const output = path.join(root, 'prebuilds', target.dir, target.file);

function headerDirs() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.filter((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

function loads(file) {
  try {
    require(file);
    return true;
  } catch {
    return false;
  }
}

if (installMode && fs.existsSync(output) && loads(output)) process.exit(0);

const headers = headerDirs();
if (headers.length === 0) {
  const message = `@node-systemd/notify: no node_api.h found (looked in ${[
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].join(', ')}); cannot build the native transport.`;
  if (installMode) {
    console.warn(`${message} The package still works off systemd; under systemd it needs the prebuilt binary for ${target.dir}.`);
    process.exit(0);
  }
  console.error(message);
  process.exit(1);
}

fs.mkdirSync(path.dirname(output), { recursive: true });
const compiler = process.env.CC || 'cc';
const args = [
  '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared',
  '-fvisibility=hidden', '-DNAPI_VERSION=8', `-I${headers[0]}`,
  '-o', output, path.join(root, 'native', 'notify.c'),
];
try {
  execFileSync(compiler, args, { stdio: 'inherit' });
  if (process.platform === 'linux') execFileSync('strip', ['--strip-unneeded', output], { stdio: 'ignore' });
} catch (error) {
  if (installMode) {
    console.warn(`@node-systemd/notify: could not compile the native transport (${error.message}). Off systemd nothing is lost; under systemd install a C compiler or use linux-x64 glibc, which ships a prebuilt binary.`);
    process.exit(0);
  }
  throw error;
}

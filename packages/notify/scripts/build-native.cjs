#!/usr/bin/env node
'use strict';
// Builds the addon from source for the running Node, into build/Release/notify.node
// (which the loader prefers over the prebuilt). Only needed on an architecture the
// package ships no prebuilt for (x64, arm64 and armv7 are prebuilt; e.g. ppc64,
// s390x, riscv64), or to test a change to native/notify.c. No node-gyp: one C file,
// the system C compiler (or $CC) and the Node-API headers of the Node that runs.
//
//   node node_modules/@node-systemd/notify/scripts/build-native.cjs
//
// Headers are looked up in $npm_config_nodedir/include/node, next to the node
// binary (<prefix>/include/node), /usr/include/node and /usr/local/include/node.
// The package has no install script: nothing compiles unless this is run.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const output = path.join(root, 'build', 'Release', 'notify.node');

function headerDirs() {
  return [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
}

function main() {
  if (process.platform !== 'linux') {
    console.log(`@node-systemd/notify: nothing to build on ${process.platform}; the native transport is for Linux (elsewhere every call is a no-op).`);
    return;
  }
  const candidates = headerDirs();
  const headers = candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
  if (!headers) {
    console.error(`@node-systemd/notify: no node_api.h in ${candidates.join(', ')}. Install Node's headers (Debian: libnode-dev; or set npm_config_nodedir to a Node install) and run this again.`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const compiler = process.env.CC || 'cc';
  // -nostdlib as the prebuilds: the binary binds to whatever libc node loaded.
  const args = [
    '-std=gnu11', '-O2', '-Wall', '-Wextra', '-fPIC', '-shared', '-nostdlib',
    '-fno-stack-protector', '-U_FORTIFY_SOURCE', '-fvisibility=hidden', '-DNAPI_VERSION=8',
    `-I${headers}`, '-o', output, path.join(root, 'native', 'notify.c'),
  ];
  try {
    execFileSync(compiler, args, { stdio: 'inherit' });
  } catch (error) {
    console.error(`@node-systemd/notify: ${compiler} failed (${error.message}). A C compiler is needed (Debian: apt install gcc; Alpine: apk add gcc musl-dev).`);
    process.exit(1);
  }
  console.log(`@node-systemd/notify: built ${output} for ${process.platform}-${process.arch} with ${headers}`);
}

main();

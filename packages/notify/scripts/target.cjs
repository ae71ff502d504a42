'use strict';
// Which addon fits this process: one prebuilt per Linux architecture, at
// prebuilds/linux-<process.arch>/notify.node. It serves glibc and musl alike (it
// names no libc; see scripts/prebuild.cjs), so the libc family is only reported.
function libc() {
  if (process.platform !== 'linux') return { family: 'none', version: undefined };
  const report = process.report && process.report.getReport();
  const glibc = report && report.header && report.header.glibcVersionRuntime;
  return glibc ? { family: 'glibc', version: glibc } : { family: 'musl', version: undefined };
}

/** The triple an error names: `linux-arm64 glibc 2.36`, `linux-x64 musl`. */
function describeTarget() {
  const { family, version } = libc();
  return `${process.platform}-${process.arch}${family === 'none' ? '' : ` ${family}${version ? ` ${version}` : ''}`}`;
}

function binaryTarget() {
  return { dir: `${process.platform}-${process.arch}`, file: 'notify.node' };
}

module.exports = { binaryTarget, describeTarget, libc };

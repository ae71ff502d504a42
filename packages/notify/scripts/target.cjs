'use strict';
// Where a binary for this platform lives: prebuilds/<platform>-<arch>/notify.<libc>.node.
function libc() {
  if (process.platform !== 'linux') return 'unknown';
  const report = process.report && process.report.getReport();
  return report && report.header && report.header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function binaryTarget() {
  return { dir: `${process.platform}-${process.arch}`, file: `notify.${libc()}.node`, libc: libc() };
}

module.exports = { binaryTarget, libc };

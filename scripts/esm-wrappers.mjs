#!/usr/bin/env node
// Writes an ESM entry (X.mjs + X.d.mts) beside each CommonJS entry a package builds.
// The packages ship one CommonJS implementation and thin ESM wrappers over it, so
// `import` and `require` share one instance: the core captures the systemd
// environment once and clears it, and two copies would disagree about it.
//
//   node scripts/esm-wrappers.mjs <distDir> <entry.js>...
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const [distDir, ...entries] = process.argv.slice(2);
const require = createRequire(path.resolve(distDir, 'noop.js'));
const identifier = /^[A-Za-z_$][\w$]*$/;

for (const entry of entries) {
  const absolute = path.resolve(distDir, entry);
  const exported = require(absolute);
  const names = Object.keys(exported).filter((name) => name !== 'default' && name !== '__esModule' && identifier.test(name));
  const base = `./${path.basename(entry)}`;
  const js = [
    `import cjs from '${base}';`,
    ...names.map((name) => `export const ${name} = cjs.${name};`),
    ...(('default' in exported) ? ['export default cjs.default;'] : []),
    '',
  ].join('\n');
  const dts = [`export * from '${base.replace(/\.js$/, '.js')}';`, ...(('default' in exported) ? [`export { default } from '${base}';`] : []), ''].join('\n');
  writeFileSync(absolute.replace(/\.js$/, '.mjs'), js);
  writeFileSync(absolute.replace(/\.js$/, '.d.mts'), dts);
}

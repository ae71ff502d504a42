#!/usr/bin/env node
// Writes an ESM entry (X.mjs + X.d.mts) beside each CommonJS entry a package builds.
// The packages ship one CommonJS implementation and thin ESM wrappers over it, so
// `import` and `require` share one instance: the core captures the systemd
// environment once and clears it, and two copies would disagree about it.
//
//   node scripts/esm-wrappers.mjs <distDir> <entry.js>...
//   node scripts/esm-wrappers.mjs --main <name> <distDir> index.js
//
// --main (the adapters: fastify's `systemd`, express's and koa's `serve`) makes
// that export the module itself, as @fastify/* plugins do, so all of these give it,
// typed as it, in every TypeScript resolution mode:
//
//   const systemd = require('@node-systemd/fastify');     // module.exports is the plugin
//   import systemd from '@node-systemd/fastify';          // default
//   import { systemd } from '@node-systemd/fastify';      // named
//
// At run time module.exports becomes the main function, carrying every named export
// and `default` as properties. For types, tsc's index.d.ts moves to entry.d.ts and
// index.d.ts becomes an `export =` of that function merged with a namespace of the
// entry's types. (`export default` in a CommonJS declaration is not what an ESM
// importer gets under "module": "nodenext": it gets the whole module object.)
import { createRequire } from 'node:module';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const mainAt = argv.indexOf('--main');
const main = mainAt >= 0 ? argv.splice(mainAt, 2)[1] : undefined;
const [distDir, ...entries] = argv;
const require = createRequire(path.resolve(distDir, 'noop.js'));
const identifier = /^[A-Za-z_$][\w$]*$/;

/** The names an entry's declaration re-exports, split into types (`type X`, `export type { ... }`) and values. */
function exportedNames(dts) {
  const types = [];
  const values = [];
  for (const [, typeOnly, list] of dts.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
    for (const item of list.split(',').map((s) => s.trim()).filter(Boolean)) {
      const match = /^(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(item);
      if (!match) throw new Error(`esm-wrappers: cannot read the export "${item}"`);
      (typeOnly || match[1] ? types : values).push(match[3] ?? match[2]);
    }
  }
  if (/^export (\*|declare|interface|type \w+ =)/m.test(dts)) {
    throw new Error('esm-wrappers --main: the entry may only re-export (export { ... } from / export type { ... } from)');
  }
  return { types, values };
}

/** Makes `main` the module itself (JS) and writes the `export =` declaration. */
function makeMainTheModule(absolute) {
  const js = readFileSync(absolute, 'utf8');
  writeFileSync(absolute, `${js.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n')}// The main export is the module itself (a bare require() gives it), carrying every
// named export and \`default\`, as @fastify/* plugins do.
module.exports = Object.assign(exports.${main}, exports, { default: exports.${main} });
`);
  const dtsPath = absolute.replace(/\.js$/, '.d.ts');
  const entryDts = absolute.replace(/[^/]+\.js$/, 'entry.d.ts');
  const dts = readFileSync(dtsPath, 'utf8').replace(/\n?\/\/# sourceMappingURL=.*$/, '\n');
  const { types, values } = exportedNames(dts);
  writeFileSync(entryDts, dts);
  writeFileSync(dtsPath, [
    "import * as entry from './entry.js';",
    `/** \`${main}\`, which is also the module itself: \`require()\`, \`import ${main} from\` and \`import { ${main} } from\` all give it. */`,
    `declare const ${main}: typeof entry.${main} & Omit<typeof entry, 'default'> & { readonly default: typeof entry.${main} };`,
    `declare namespace ${main} {`,
    ...types.map((name) => `  export type ${name} = entry.${name};`),
    '}',
    `export = ${main};`,
    '',
  ].join('\n'));
  return { dtsSource: './entry.js', values };
}

for (const entry of entries) {
  const absolute = path.resolve(distDir, entry);
  const { dtsSource, values } = main ? makeMainTheModule(absolute) : { dtsSource: `./${path.basename(entry)}` };
  const exported = require(absolute);
  // With --main, the declared exports only (fastify-plugin also hangs a camel-cased name on the plugin).
  const names = (values ?? Object.keys(exported)).filter((name) => name !== 'default' && name !== '__esModule' && identifier.test(name));
  const base = `./${path.basename(entry)}`;
  const js = [
    `import cjs from '${base}';`,
    ...names.map((name) => `export const ${name} = cjs.${name};`),
    ...(('default' in exported) ? ['export default cjs.default;'] : []),
    '',
  ].join('\n');
  // The default is re-exported under its own name: `export { default } from` a
  // CommonJS declaration would give ESM importers the whole module object.
  const dts = [
    `export * from '${dtsSource}';`,
    ...(main ? [`export { ${main} as default } from '${dtsSource}';`] : ('default' in exported) ? [`export { default } from '${dtsSource}';`] : []),
    '',
  ].join('\n');
  writeFileSync(absolute.replace(/\.js$/, '.mjs'), js);
  writeFileSync(absolute.replace(/\.js$/, '.d.mts'), dts);
}

// Prints what importing one package costs in a fresh process: wall time of the
// import and the RSS and heap it adds, after a GC on both sides.
//
//   node --expose-gc import-cost.mjs <package> [<imported first>]
const [name, first] = process.argv.slice(2);
await import('./empty.cjs'); // warms the ESM and CJS loaders up
if (first) await import(first);
globalThis.gc?.();
const before = process.memoryUsage();
const t0 = performance.now();
await import(name);
const ms = performance.now() - t0;
globalThis.gc?.();
const after = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ ms, rssKiB: (after.rss - before.rss) / 1024, heapKiB: (after.heapUsed - before.heapUsed) / 1024 })}\n`);

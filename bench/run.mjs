#!/usr/bin/env node
// pnpm bench: runs every section (or those named with --only a,b), keeps each
// section's raw result in results/<section>.json, and writes RESULTS.md and
// drain.svg from all results present.
//
//   node run.mjs                      everything (the root's `pnpm bench` does this)
//   node run.mjs --only transport     one or more sections, comma-separated
//   node run.mjs --quick              fewer rounds, for development
//   node run.mjs --render             rewrite RESULTS.md and drain.svg from results/
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchDir, resultsDir } from './lib/paths.mjs';
import { machine } from './lib/setup.mjs';
import { writeReport } from './lib/report.mjs';

export const SECTIONS = ['transport', 'drain', 'overhead', 'startup', 'restart', 'cluster', 'journal'];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    section: { type: 'string' },
  },
});

// Each section runs in a child process of its own (`--section NAME`), so that no
// state, module or native handle of one section can affect the next. (One did:
// after FakeNotifyManager.close() removed its socket file, Node 20.20 could no
// longer import pnpm-linked CommonJS packages in that process.)
if (values.section) {
  const started = Date.now();
  const log = (line) => console.log(`[bench ${values.section} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const section = await import(`./sections/${values.section}.mjs`);
  const result = await section.run({ log, setup: machine(), quick: values.quick });
  writeFileSync(join(resultsDir, `${values.section}.json`), `${JSON.stringify(result, null, 1)}\n`);
  process.exit(0);
}

const started = Date.now();
const log = (line) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const wanted = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : SECTIONS;
for (const name of wanted) {
  if (!SECTIONS.includes(name)) {
    console.error(`Unknown section "${name}"; the sections are ${SECTIONS.join(', ')}.`);
    process.exit(2);
  }
}

mkdirSync(resultsDir, { recursive: true });
let failed = false;
if (!values.render) {
  for (const name of wanted) {
    log(`${name}: start (load ${machine().load})`);
    const args = [fileURLToPath(import.meta.url), '--section', name, ...(values.quick ? ['--quick'] : [])];
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, args, { cwd: benchDir, stdio: 'inherit' });
      child.on('exit', (status, signal) => resolve(status ?? signal));
    });
    if (code === 0) log(`${name}: done`);
    else {
      failed = true;
      log(`${name}: FAILED (exit ${code}); its previous result, if any, is kept`);
    }
  }
}

const results = SECTIONS.map((name) => {
  const file = join(resultsDir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}).filter(Boolean);
const summary = await writeReport(results);
console.log(`\n${summary}\nWrote ${join(benchDir, 'RESULTS.md')} in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
process.exitCode = failed ? 1 : 0;

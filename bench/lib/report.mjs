// RESULTS.md (and drain.svg) from the sections' stored results.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './paths.mjs';

export async function writeReport(results) {
  const parts = [];
  const allGoals = [];
  const allNotes = [];
  for (const result of results) {
    let rendered;
    try {
      const section = await import(`../sections/${result.section}.mjs`);
      rendered = section.render(result);
    } catch (error) {
      rendered = { markdown: `## ${result.section}\n\nCould not render the stored result: ${error.message}`, notes: [`${result.section}: not rendered: ${error.message}`] };
    }
    const { markdown, goals = [], notes = [], svg } = rendered;
    parts.push(markdown);
    if (goals.some((g) => !g.hidden)) {
      parts.push('');
      parts.push(goals.filter((g) => !g.hidden).map((g) => `- Goal ${g.met ? 'met' : '**missed**'}: ${g.label}: **${g.value}** (goal ${g.goal})`).join('\n'));
    }
    if (notes.length > 0) parts.push(`\n${notes.map((n) => `- Note: ${n}`).join('\n')}`);
    if (svg) writeFileSync(join(benchDir, svg.file), svg.text);
    for (const g of goals) allGoals.push({ section: result.section, ...g });
    allNotes.push(...notes.map((n) => `${result.section}: ${n}`));
  }
  const missed = allGoals.filter((g) => !g.met);
  const head = [
    '# Benchmark results',
    '',
    'Written by `pnpm bench` (bench/run.mjs); do not edit by hand. Each section carries the',
    'setup it ran with. The machines are shared and noisy, so every comparison runs side by',
    'side in the same run, alternating, and is stated as a ratio. How each section measures:',
    '[README.md](README.md).',
    '',
    '![SIGTERM-to-exit, failed requests and what a new connection gets, per library](drain.svg)',
    '',
    '## Goals',
    '',
    allGoals.length === 0 ? 'No section with goals has run yet.' : `${allGoals.length - missed.length} of ${allGoals.length} goals met${missed.length ? '; missed:' : '.'}`,
    ...missed.map((g) => `- **missed** (${g.section}): ${g.label}: ${g.value}, goal ${g.goal}`),
    '',
    'Every goal, met or not, is listed under its section.',
    '',
  ];
  writeFileSync(join(benchDir, 'RESULTS.md'), `${[...head, ...parts.flatMap((p) => [p, ''])].join('\n').trimEnd()}\n`);
  return [...allGoals.map((g) => `${g.met ? 'met   ' : 'MISSED'} ${g.section}: ${g.label}: ${g.value} (goal ${g.goal})`), ...allNotes].join('\n');
}

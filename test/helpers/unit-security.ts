// Checks a shipped .service file: its exposure score, as
// `systemd-analyze security --offline=yes` rates it, is at most 1.5, and it runs
// node itself as a Type=notify service with a watchdog and no capabilities.
// Offline analysis needs no running systemd, only systemd >= 250.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const MAX_EXPOSURE = 1.5;

function analyze(unit: string): { skip: string } | { score: number; rating: string; output: string } {
  const run = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], { encoding: 'utf8' });
  if (run.error) return { skip: `systemd-analyze is not available here (${run.error.message})` };
  const output = `${run.stdout}${run.stderr}`;
  if (/unrecognized option|unknown option/i.test(output)) return { skip: 'this systemd-analyze has no --offline (systemd < 250)' };
  const name = path.basename(unit).replace(/[.]/g, '\\.');
  const match = new RegExp(`Overall exposure level for ${name}:\\s*([\\d.]+)\\s+(\\S+)`).exec(output);
  assert.ok(match, `no "Overall exposure level" line in:\n${output}`);
  return { score: Number(match[1]), rating: match[2]!, output };
}

/** Registers the two checks for one example's unit file. */
export function testHardenedUnit(unit: string): void {
  const name = path.basename(unit);
  test(`${name} scores at most ${MAX_EXPOSURE} in systemd-analyze security --offline=yes`, (t) => {
    const result = analyze(unit);
    if ('skip' in result) return t.skip(result.skip);
    t.diagnostic(`exposure ${result.score} ${result.rating}`);
    assert.ok(result.score <= MAX_EXPOSURE, `exposure ${result.score} is above ${MAX_EXPOSURE}:\n${result.output}`);
  });

  test(`${name} runs node itself as a Type=notify service with a watchdog`, () => {
    const text = readFileSync(unit, 'utf8');
    assert.match(text, /^Type=notify$/m);
    assert.match(text, /^NotifyAccess=main$/m);
    assert.match(text, /^WatchdogSec=\S+$/m);
    assert.match(text, /^ExecStart=\/usr\/bin\/node \/opt\/[\w-]+\/dist\/app\.js$/m);
    assert.match(text, /^CapabilityBoundingSet=$/m);
    assert.match(text, /^DynamicUser=yes$/m);
  });
}

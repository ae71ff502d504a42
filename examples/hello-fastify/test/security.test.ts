// The shipped unit's exposure score, as `systemd-analyze security --offline=yes` rates it
// (issue 3: at most 1.5). Offline analysis needs no running systemd, only systemd >= 250.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const unit = path.join(__dirname, '..', 'hello.service');
const MAX_EXPOSURE = 1.5;

function analyze(): { skip: string } | { score: number; rating: string; output: string } {
  const run = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], { encoding: 'utf8' });
  if (run.error) return { skip: `systemd-analyze is not available here (${run.error.message})` };
  const output = `${run.stdout}${run.stderr}`;
  if (/unrecognized option|unknown option/i.test(output)) return { skip: 'this systemd-analyze has no --offline (systemd < 250)' };
  const match = /Overall exposure level for hello\.service:\s*([\d.]+)\s+(\S+)/.exec(output);
  assert.ok(match, `no "Overall exposure level" line in:\n${output}`);
  return { score: Number(match[1]), rating: match[2]!, output };
}

test(`hello.service scores at most ${MAX_EXPOSURE} in systemd-analyze security --offline=yes`, (t) => {
  const result = analyze();
  if ('skip' in result) return t.skip(result.skip);
  t.diagnostic(`exposure ${result.score} ${result.rating}`);
  assert.ok(result.score <= MAX_EXPOSURE, `exposure ${result.score} is above ${MAX_EXPOSURE}:\n${result.output}`);
});

test('hello.service runs node itself as a Type=notify service with a watchdog', async () => {
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(unit, 'utf8');
  assert.match(text, /^Type=notify$/m);
  assert.match(text, /^NotifyAccess=main$/m);
  assert.match(text, /^WatchdogSec=\S+$/m);
  assert.match(text, /^ExecStart=\/usr\/bin\/node \/opt\/[\w-]+\/dist\/app\.js$/m);
  assert.match(text, /^CapabilityBoundingSet=$/m);
  assert.match(text, /^DynamicUser=yes$/m);
});

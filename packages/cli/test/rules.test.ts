// Each doctor rule against its fixture pair in test/fixtures/rules/RULE: the unit
// with the problem (bad.service, with bad.socket when the rule is about sockets)
// is flagged by that rule, and its fixed twin (good.service) passes: doctor finds
// no error in it and nothing from that rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { doctor, rules } from '../src/doctor.js';

const fixtures = path.join(__dirname, 'fixtures', 'rules');

function run(rule: string, which: 'bad' | 'good') {
  const dir = path.join(fixtures, rule);
  const extra = existsSync(path.join(dir, 'options.json')) ? JSON.parse(readFileSync(path.join(dir, 'options.json'), 'utf8')) : {};
  return doctor(path.join(dir, `${which}.service`), {
    analyze: false,
    systemdVersion: 257,
    ...(existsSync(path.join(dir, 'root')) ? { root: path.join(dir, 'root') } : {}),
    ...extra,
  });
}

test('every rule has a fixture pair, and there are at least 15 distinct ones', () => {
  const dirs = readdirSync(fixtures).sort();
  assert.deepEqual(dirs, rules.map((r) => r.id).sort());
  assert.ok(dirs.length >= 15, `${dirs.length} rules`);
});

for (const rule of rules) {
  test(`${rule.id}: flags the problem (${rule.summary})`, () => {
    const report = run(rule.id, 'bad');
    const hits = report.findings.filter((f) => f.rule === rule.id);
    assert.ok(hits.length > 0, `no ${rule.id} finding in ${JSON.stringify(report.findings, null, 2)}`);
    for (const hit of hits) {
      assert.ok(hit.line && hit.line >= 1, 'a finding has its line');
      assert.ok(hit.file?.endsWith('.service') || hit.file?.endsWith('.socket'), 'a finding has its file');
      assert.match(hit.fix ?? '', /^[A-Z][A-Za-z]+=/, 'the fix is a unit-file line');
      assert.ok(hit.message.length > 20);
    }
  });
  test(`${rule.id}: passes the fixed twin`, () => {
    const report = run(rule.id, 'good');
    assert.deepEqual(report.findings.filter((f) => f.rule === rule.id), []);
    assert.deepEqual(report.findings.filter((f) => f.severity === 'error'), []);
    assert.equal(report.ok, true);
  });
}

// The examples' committed units are node-systemd unit's output: each hello.service
// names the command that wrote it, and running that command again in the example's
// directory gives the committed hello.service and hello.socket byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { doctor } from '../src/index.js';
import { main } from '../src/cli.js';
import { words } from '../src/unit-file.js';

const examples = path.resolve(__dirname, '../../../examples');

for (const name of ['hello-fastify', 'hello-express', 'hello-koa']) {
  test(`examples/${name}: hello.service and hello.socket equal the generator's output`, () => {
    const dir = path.join(examples, name);
    const service = readFileSync(path.join(dir, 'hello.service'), 'utf8');
    const socket = readFileSync(path.join(dir, 'hello.socket'), 'utf8');
    const command = /written by: node-systemd (unit .*)$/m.exec(service)?.[1];
    assert.ok(command, 'hello.service names the command that wrote it');
    let out = '';
    const code = main([...words(command), '--print'], { cwd: dir, isTty: false, out: (t) => (out += t), err: () => {} });
    assert.equal(code, 0);
    assert.equal(out, `${service}\n${socket}`);
  });
}

for (const name of ['hello-fastify', 'hello-express', 'hello-koa']) {
  test(`examples/${name}: doctor finds nothing wrong with the shipped units (systemd-analyze verify clean, exposure <= 1.0)`, (t) => {
    const report = doctor(path.join(examples, name, 'hello.service'), { systemdVersion: 252 });
    assert.deepEqual(report.findings.filter((f) => f.severity !== 'info'), [], JSON.stringify(report.findings, null, 2));
    if (!report.exposure) return t.skip('systemd-analyze is not installed: verify and the exposure score not checked');
    t.diagnostic(`exposure ${report.exposure.score} ${report.exposure.rating}`);
    assert.ok(report.exposure.score <= 1.0);
  });
}

// The packages are typed right in every resolution mode, and the adapters' main
// exports (fastify's plugin, express's and koa's serve) come out of a bare
// require(), a default import and a named import alike, as @fastify/* plugins do.
// - test/types/: fixtures compiled with tsc under nodenext, node16 (ESM, CJS and
//   checked plain JS) and bundler;
// - @arethetypeswrong/cli over each packed package (every entry, every mode);
// - the same three forms at run time, from CommonJS and from ESM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './lib.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);

for (const mode of ['nodenext', 'node16', 'bundler']) {
  test(`types: the fixtures compile under "moduleResolution": "${mode}"`, { timeout: 120_000 }, () => {
    const result = spawnSync(bin('tsc'), ['-p', join('types', `tsconfig.${mode}.json`)], { cwd: join(root, 'test'), encoding: 'utf8' });
    assert.equal(result.status, 0, `tsc -p test/types/tsconfig.${mode}.json:\n${result.stdout}${result.stderr}`);
  });
}

test('types: @arethetypeswrong/cli finds no problem in any packed package', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsd-attw-'));
  try {
    for (const name of ['notify', 'fastify', 'express', 'koa']) {
      const packed = spawnSync('pnpm', ['pack', '--config.ignore-scripts=true', '--pack-destination', dir], { cwd: join(root, 'packages', name), encoding: 'utf8' });
      assert.equal(packed.status, 0, packed.stderr);
    }
    const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    assert.equal(tarballs.length, 4);
    for (const tarball of tarballs) {
      const result = spawnSync(bin('attw'), [join(dir, tarball), '--format', 'ascii'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(result.status, 0, `attw ${tarball}:\n${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /No problems found/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runtime: require(), import default and import { name } of each adapter give the same main export; fastify registers all three', { timeout: 60_000 }, () => {
  const script = `
    import { createRequire } from 'node:module';
    import Fastify from 'fastify';
    import systemdDefault, { systemd } from '@node-systemd/fastify';
    import expressDefault, { serve as expressServe, drainMiddleware } from '@node-systemd/express';
    import koaDefault, { serve as koaServe } from '@node-systemd/koa';
    const require = createRequire(import.meta.url);
    const fastifyRequired = require('@node-systemd/fastify');
    const expressRequired = require('@node-systemd/express');
    const koaRequired = require('@node-systemd/koa');
    const app = Fastify();
    let registered = 0;
    for (const plugin of [systemdDefault, systemd, fastifyRequired]) {
      const child = Fastify();
      await child.register(plugin, { handleSignals: false, watchdog: false });
      await child.ready();
      registered += typeof child.systemd === 'object' ? 1 : 0;
      await child.close();
    }
    console.log(JSON.stringify({
      fastify: [systemdDefault === systemd, fastifyRequired === systemd, fastifyRequired.default === systemd, fastifyRequired.systemd === systemd, typeof systemd],
      express: [expressDefault === expressServe, expressRequired === expressServe, expressRequired.serve === expressServe, expressRequired.drainMiddleware === drainMiddleware, typeof expressServe],
      koa: [koaDefault === koaServe, koaRequired === koaServe, koaRequired.serve === koaServe, typeof koaServe],
      registered,
    }));
    await app.close();
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(root, 'test'), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    fastify: [true, true, true, true, 'function'],
    express: [true, true, true, true, 'function'],
    koa: [true, true, true, 'function'],
    registered: 3,
  });
});

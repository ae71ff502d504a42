import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { monotonicUsec } from '../src/notifier.js';
import { get, indexOf, rig } from './lifecycle-helpers.js';

test('success: reload() sends RELOADING=1 with MONOTONIC_USEC, runs the function, then READY=1', { timeout: 20_000 }, async () => {
  let calls = 0;
  const r = await rig((_req, res) => res.end('ok'), { reload: async () => void calls++ });
  try {
    const before = r.manager.messages.length;
    const states: string[] = [];
    r.lifecycle.on('state', (state: string) => states.push(state));
    await r.lifecycle.reload();
    const now = monotonicUsec();
    assert.equal(calls, 1);
    const reloading = await r.manager.waitFor('RELOADING', { from: before });
    const drift = now - BigInt(reloading.fields.MONOTONIC_USEC!);
    assert.ok(drift >= 0n && drift < 1_000_000n, `MONOTONIC_USEC is ${drift} µs behind CLOCK_MONOTONIC`);
    const ready = await r.manager.waitFor('READY', { from: r.manager.messages.indexOf(reloading) + 1 });
    assert.equal(ready.fields.STATUS, `listening on 127.0.0.1:${r.port}`);
    assert.deepEqual(states, ['reloading', 'ready']);
  } finally {
    r.close();
  }
});

test('failure: a failing reload reports STATUS= and ERRNO=, sends READY=1 and keeps serving', { timeout: 20_000 }, async () => {
  const failure = Object.assign(new Error('config.json:\n unexpected token'), { code: 'ENOENT', errno: -2 });
  const r = await rig((_req, res) => res.end('still here'), {
    reload: () => {
      throw failure;
    },
  });
  try {
    let reported: unknown;
    r.lifecycle.on('reloadFailed', (error: unknown) => (reported = error));
    const before = r.manager.messages.length;
    await r.lifecycle.reload();
    assert.equal(reported, failure);
    const answer = await r.manager.waitFor('ERRNO', { from: before });
    assert.deepEqual(answer.fields, { STATUS: 'reload failed: config.json: unexpected token', ERRNO: '2', READY: '1' });
    assert.equal(r.lifecycle.state, 'ready');
    assert.equal((await get(r.port, '/', new Agent())).body, 'still here');
  } finally {
    r.close();
  }
});

test('no-op: reload() while draining does nothing; without a reload function it is a typed error', { timeout: 20_000 }, async () => {
  let calls = 0;
  const r = await rig((_req, res) => res.end('ok'), { reload: () => void calls++ });
  try {
    await r.lifecycle.shutdown();
    await r.lifecycle.reload();
    assert.equal(calls, 0);
    assert.equal(indexOf(r.manager, (f) => f.RELOADING === '1'), -1);
  } finally {
    r.close();
  }
  const plain = await rig((_req, res) => res.end('ok'));
  try {
    await assert.rejects(plain.lifecycle.reload(), { code: 'ERR_NOTIFY_INVALID_OPTION' });
  } finally {
    plain.close();
  }
});

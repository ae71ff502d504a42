// Tests of the bench's own helpers: the response parser that decides whether a
// request failed, the statistics, and the chart. Run: node --test bench/test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResponse } from '../lib/http-response.mjs';
import { quantile, median, table, goal } from '../lib/stats.mjs';
import { drainChart } from '../lib/svg.mjs';

const buf = (s) => Buffer.from(s, 'latin1');

test('parseResponse: success, a complete content-length response with its Connection header', () => {
  const r = parseResponse(buf('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow'));
  assert.equal(r.status, 200);
  assert.equal(r.complete, true);
  assert.equal(r.headers.connection, 'close');
});

test('parseResponse: success, a chunked response is complete only after the last chunk', () => {
  const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  assert.equal(parseResponse(buf(`${head}6\r\nchunk\n\r\n`)).complete, false);
  assert.equal(parseResponse(buf(`${head}6\r\nchunk\n\r\n0\r\n\r\n`)).complete, true);
});

test('parseResponse: no-op, headers not yet complete give null', () => {
  assert.equal(parseResponse(buf('HTTP/1.1 200 OK\r\nContent-Len')), null);
});

test('parseResponse: failure, a body cut short is not complete', () => {
  const r = parseResponse(buf('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(r.complete, false);
});

test('stats: nearest-rank quantiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(median(values), 50);
  assert.equal(quantile(values, 0.99), 99);
  assert.ok(Number.isNaN(median([])));
});

test('stats: table escapes pipes, goal compares both ways', () => {
  assert.match(table(['a'], [['x|y']]), /x\\\|y/);
  assert.equal(goal('g', 0.97, '>=', 0.98).met, false);
  assert.equal(goal('g', 1.04, '<=', 1.05).met, true);
});

test('drainChart: one bar per shown row, capped rows marked, well-formed', () => {
  const row = (id, ours, extra = {}) => ({ id, label: id, ours, runs: 1, exitMs: 410, remainderMs: 400, failed: 0, busyFailed: 0, newConnection: ['refused'], ...extra });
  const slow = { rows: [row('plain', false), row('capped', false, { capped: true, capNote: 'waits keepAliveTimeout' }), row('ours', true), row('probe', false, { probe: true })] };
  const busy = { busy: 8, rows: [row('plain', false, { busyFailed: 8 }), row('ours', true)] };
  const svg = drainChart({ slow, busy }, { idle: 200, inflight: 20, slowMs: 500, capMs: 15000, setup: { date: 'd', cpu: 'c', node: 'v20' } });
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /&gt;15000 \(waits keepAliveTimeout\)/);
  assert.doesNotMatch(svg, />probe</);
  assert.equal((svg.match(/<svg/g) ?? []).length, (svg.match(/<\/svg>/g) ?? []).length);
});

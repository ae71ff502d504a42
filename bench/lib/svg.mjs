// drain.svg: a horizontal bar chart of the drain comparison, written by hand
// (no chart library): SIGTERM-to-exit time and failed in-flight requests per row.

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function drainChart(rows, result) {
  const shown = rows.filter((r) => !r.skipped && r.runs > 0);
  const labelW = 330;
  const timeW = 420;
  const gap = 40;
  const failW = 170;
  const newW = 300;
  const rowH = 30;
  const top = 70;
  const width = labelW + timeW + gap + failW + 60 + newW;
  const height = top + shown.length * rowH + 50;
  const maxMs = Math.max(1000, ...shown.map((r) => (r.capped ? result.capMs : r.exitMs)));
  const scaleX = (ms) => (Math.min(ms, maxMs) / maxMs) * timeW;
  const maxFail = result.inflight;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="24" font-size="16" font-weight="bold">Drain on SIGTERM: ${result.idle} idle keep-alive + ${result.inflight} in-flight ${result.slowMs} ms requests</text>`);
  out.push(`<text x="12" y="44" fill="#555">${escape(`${result.setup.date} · ${result.setup.cpu} · Node ${result.setup.node} · median of the rounds · bench/RESULTS.md`)}</text>`);
  const x0 = labelW;
  const f0 = labelW + timeW + gap;
  out.push(`<text x="${x0}" y="${top - 8}" font-weight="bold">SIGTERM → exit (ms)</text>`);
  out.push(`<text x="${f0}" y="${top - 8}" font-weight="bold">failed in-flight (of ${result.inflight} a run)</text>`);
  const n0 = f0 + failW + 60;
  out.push(`<text x="${n0}" y="${top - 8}" font-weight="bold">new connection during the drain</text>`);
  shown.forEach((r, i) => {
    const y = top + i * rowH;
    const color = r.ours ? '#2f855a' : '#8a94a6';
    out.push(`<text x="${labelW - 10}" y="${y + 18}" text-anchor="end"${r.ours ? ' font-weight="bold"' : ''}>${escape(r.label)}</text>`);
    const ms = r.capped ? result.capMs : r.exitMs;
    const w = Math.max(2, scaleX(ms));
    out.push(`<rect x="${x0}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${color}"/>`);
    const text = r.capped ? `>${result.capMs} (${r.capNote ?? 'capped'})` : `${Math.round(r.exitMs)}`;
    const inside = w > timeW - 150;
    out.push(`<text x="${(inside ? x0 + w - 6 : x0 + w + 6).toFixed(1)}" y="${y + 19}"${inside ? ' text-anchor="end" fill="#fff"' : ''}>${escape(text)}</text>`);
    const perRun = r.failed / Math.max(1, r.runs);
    const fw = (Math.min(perRun, maxFail) / maxFail) * failW;
    out.push(`<rect x="${f0}" y="${y + 5}" width="${failW}" height="${rowH - 10}" fill="#f1f3f6"/>`);
    if (fw > 0) out.push(`<rect x="${f0}" y="${y + 5}" width="${fw.toFixed(1)}" height="${rowH - 10}" fill="#c53030"/>`);
    out.push(`<text x="${f0 + failW + 6}" y="${y + 19}">${escape(Number.isInteger(perRun) ? perRun : perRun.toFixed(1))}</text>`);
    const fresh = r.newConnection.join("; ").replace(/ \(E[A-Z]+\)/g, "");
    const bad = /accepted and reset/.test(fresh);
    out.push(`<text x="${n0}" y="${y + 19}" fill="${bad ? '#c53030' : '#333'}"${bad ? ' font-weight="bold"' : ''}>${escape(fresh)}</text>`);
  });
  const remainder = shown.length ? Math.min(...shown.map((r) => r.remainderMs)) : undefined;
  if (remainder) {
    const rx = x0 + scaleX(remainder);
    out.push(`<line x1="${rx.toFixed(1)}" y1="${top - 2}" x2="${rx.toFixed(1)}" y2="${top + shown.length * rowH}" stroke="#d69e2e" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(rx + 4).toFixed(1)}" y="${top + shown.length * rowH + 16}" fill="#975a16">in-flight remainder ≈ ${Math.round(remainder)} ms</text>`);
  }
  out.push(`<text x="12" y="${height - 10}" fill="#555">green: node-systemd · grey: what users would otherwise pick · capped rows were killed at ${result.capMs} ms</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

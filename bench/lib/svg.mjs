// drain.svg: the drain comparison as a horizontal bar chart, written by hand (no
// chart library). Per library: SIGTERM-to-exit (slow requests on a plain port),
// failed requests per run (busy keep-alive clients), and what a new connection
// gets during the drain (socket-activated).

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 'accepted and reset (ECONNRESET)' -> 'accepted and reset', etc. */
function outcomeKind(outcome) {
  for (const kind of ['accepted and reset', 'left queued', 'refused', 'served']) if (outcome.startsWith(kind)) return kind;
  return outcome;
}

/**
 * scenarios: { slow, busy, socket } as summarized by the drain section (busy and
 * socket may be missing); result: the drain section's result (setup, counts).
 */
export function drainChart({ slow, busy, socket }, result) {
  const shown = slow.rows.filter((r) => !r.skipped && r.runs > 0 && !r.probe);
  const find = (scenario, id) => scenario?.rows.find((r) => r.id === id && !r.skipped && r.runs > 0);
  const labelW = 360;
  const timeW = 400;
  const gap = 40;
  const failW = 190;
  const newW = 250;
  const rowH = 30;
  const top = 92;
  const f0 = labelW + timeW + gap;
  const n0 = f0 + failW + 90;
  const width = n0 + newW;
  const height = top + shown.length * rowH + 56;
  const maxMs = Math.max(1000, ...shown.map((r) => (r.capped ? result.capMs : r.exitMs)));
  const scaleX = (ms) => (Math.min(ms, maxMs) / maxMs) * timeW;
  const failures = (r) => {
    const b = find(busy, r.id);
    return b ? (b.failed + b.busyFailed) / b.runs : undefined;
  };
  const maxFail = 20; // a full bar means 20 or more, so that single failures stay visible
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Verdana, Helvetica, Arial, sans-serif" font-size="13">`);
  out.push('<rect width="100%" height="100%" fill="#ffffff"/>');
  out.push(`<text x="12" y="24" font-size="16" font-weight="bold">Drain on SIGTERM: ${result.idle} idle keep-alive connections + ${result.inflight} in-flight ${result.slowMs} ms requests</text>`);
  out.push(`<text x="12" y="44" fill="#555">${escape(`${result.setup.date} · ${result.setup.cpu} · Node ${result.setup.node} · medians of the rounds · numbers and method: bench/RESULTS.md`)}</text>`);
  out.push(`<text x="${labelW}" y="${top - 26}" font-weight="bold">SIGTERM → exit (ms)</text>`);
  out.push(`<text x="${labelW}" y="${top - 10}" fill="#555" font-size="12">plain port</text>`);
  out.push(`<text x="${f0}" y="${top - 26}" font-weight="bold">failed requests per run</text>`);
  out.push(`<text x="${f0}" y="${top - 10}" fill="#555" font-size="12">+ ${busy?.busy ?? 8} busy keep-alive clients; full bar ≥ ${maxFail}</text>`);
  out.push(`<text x="${n0}" y="${top - 26}" font-weight="bold">new connection mid-drain</text>`);
  out.push(`<text x="${n0}" y="${top - 10}" fill="#555" font-size="12">socket-activated (.socket stand-in)</text>`);
  shown.forEach((r, i) => {
    const y = top + i * rowH;
    const color = r.ours ? '#2f855a' : '#8a94a6';
    out.push(`<text x="${labelW - 10}" y="${y + 19}" text-anchor="end"${r.ours ? ' font-weight="bold"' : ''}>${escape(r.label)}</text>`);
    const ms = r.capped ? result.capMs : r.exitMs;
    const w = Math.max(2, scaleX(ms));
    out.push(`<rect x="${labelW}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${color}"/>`);
    const text = r.capped ? `>${result.capMs} (${r.capNote ?? 'capped'})` : `${Math.round(r.exitMs)}`;
    const inside = w > timeW - 150;
    out.push(`<text x="${(inside ? labelW + w - 6 : labelW + w + 6).toFixed(1)}" y="${y + 19}"${inside ? ' text-anchor="end" fill="#fff"' : ''}>${escape(text)}</text>`);
    const perRun = failures(r);
    out.push(`<rect x="${f0}" y="${y + 5}" width="${failW}" height="${rowH - 10}" fill="#f1f3f6"/>`);
    if (perRun > 0) out.push(`<rect x="${f0}" y="${y + 5}" width="${((Math.min(perRun, maxFail) / maxFail) * failW).toFixed(1)}" height="${rowH - 10}" fill="#c53030"/>`);
    out.push(`<text x="${f0 + failW + 6}" y="${y + 19}">${perRun === undefined ? 'n/a' : escape(Number.isInteger(perRun) ? perRun : perRun.toFixed(1))}</text>`);
    const s = find(socket, r.id) ?? r;
    const kinds = [...new Set(s.newConnection.map(outcomeKind))].join(' / ');
    const bad = kinds.includes('accepted and reset');
    out.push(`<text x="${n0}" y="${y + 19}" fill="${bad ? '#c53030' : '#333'}"${bad ? ' font-weight="bold"' : ''}>${escape(kinds)}</text>`);
  });
  const remainder = shown.length ? Math.min(...shown.map((r) => r.remainderMs)) : undefined;
  const bottom = top + shown.length * rowH;
  if (remainder) {
    const rx = labelW + scaleX(remainder);
    out.push(`<line x1="${rx.toFixed(1)}" y1="${top}" x2="${rx.toFixed(1)}" y2="${bottom}" stroke="#d69e2e" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(rx + 4).toFixed(1)}" y="${bottom + 16}" fill="#975a16">in-flight remainder ≈ ${Math.round(remainder)} ms</text>`);
  }
  out.push(`<text x="12" y="${height - 12}" fill="#555">green: node-systemd · grey: what users would otherwise pick · rows killed after ${result.capMs} ms are shown as capped</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

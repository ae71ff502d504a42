// Small statistics and formatting helpers shared by every section.

/** The q-quantile (0..1) of numbers, nearest-rank on a sorted copy. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => quantile(values, 0.5);
export const p99 = (values) => quantile(values, 0.99);

export function mean(values) {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A number with a sensible count of digits for a table cell. */
export function fmt(value, digits) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a';
  if (typeof value !== 'number') return String(value);
  if (digits !== undefined) return value.toFixed(digits);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toString();
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export const ratio = (a, b) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : NaN);

export function fmtRatio(value) {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 0.1 ? `${value.toFixed(2)}×` : `${value.toPrecision(2)}×`;
}

/** A Markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Checks one goal; returns { text, met } for the goal lines under a table. */
export function goal(label, value, op, target, unit = '×') {
  const met = Number.isFinite(value) && (op === '<=' ? value <= target : value >= target);
  const shown = Number.isFinite(value) ? `${value.toFixed(2)}${unit}` : 'n/a';
  return { label, value: shown, goal: `${op === '<=' ? '≤' : '≥'} ${target}${unit}`, met };
}

/** doctor's report as text (colours only on a TTY) or JSON. */
import type { DoctorReport } from './doctor.js';
import type { Severity } from './findings.js';

const COLOURS: Record<Severity | 'dim' | 'bold', string> = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m', dim: '\x1b[2m', bold: '\x1b[1m' };

export function formatReport(report: DoctorReport, colour: boolean): string {
  const paint = (kind: keyof typeof COLOURS, text: string): string => (colour ? `${COLOURS[kind]}${text}\x1b[0m` : text);
  const out: string[] = [paint('bold', `${report.unit}`) + paint('dim', ` (${report.files.join(', ')}${report.systemdVersion === undefined ? '' : `; systemd ${report.systemdVersion}`})`)];
  for (const f of report.findings) {
    const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '';
    out.push(`${paint(f.severity, f.severity.padEnd(7))} ${f.rule}${where ? paint('dim', `  ${where}`) : ''}`);
    out.push(`        ${f.message}`);
    if (f.fix) out.push(`        fix: ${paint('bold', f.fix)}`);
  }
  for (const n of report.notChecked) out.push(`${paint('dim', 'not checked')} ${n}`);
  const count = (s: Severity): number => report.findings.filter((f) => f.severity === s).length;
  out.push(report.ok ? paint('bold', `ok: ${count('warning')} warning(s), no errors`) : paint('error', `${count('error')} error(s), ${count('warning')} warning(s)`));
  return `${out.join('\n')}\n`;
}

export const formatJson = (report: DoctorReport): string => `${JSON.stringify(report, null, 2)}\n`;

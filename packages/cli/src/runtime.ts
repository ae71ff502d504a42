/** `node-systemd doctor --runtime`: the core's diagnose() as a doctor report. */
import { diagnose } from '@node-systemd/notify';
import type { DoctorReport } from './doctor.js';

export function runtimeReport(options: { fdName?: string } = {}): DoctorReport {
  const found = diagnose(options);
  const findings = found.map((d) => ({ rule: `runtime-${d.check}`, severity: d.severity, message: d.message, ...(d.fix ? { fix: d.fix } : {}) }));
  return {
    unit: `this process (PID ${process.pid})`,
    files: [],
    findings,
    notChecked: [],
    ok: !findings.some((f) => f.severity === 'error'),
  };
}

/**
 * @node-systemd/cli as a library: what `node-systemd unit` and `node-systemd doctor`
 * run, for scripts and tests that want the result instead of the output.
 */
export { generateService, generateSocket, defaultUnitOptions, STOP_MARGIN_SEC, type UnitOptions } from './generate.js';
export { doctor, rules, type DoctorOptions, type DoctorReport } from './doctor.js';
export type { Finding, Severity } from './findings.js';
export { parseUnitText, type Assignment } from './unit-file.js';
export { parseSystemctlCat } from './systemd.js';
export { main } from './cli.js';

/**
 * @node-systemd/cli as a library: what `node-systemd unit` and `node-systemd doctor`
 * run, for scripts and tests that want the result instead of the output.
 */
export { generateService, generateSocket, defaultUnitOptions, type UnitOptions } from './generate.js';
export { doctor, type DoctorOptions, type DoctorReport } from './doctor.js';
export type { Finding, Severity } from './findings.js';

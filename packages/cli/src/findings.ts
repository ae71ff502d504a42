import type { Assignment, Unit } from './unit-file.js';
import { sectionStart } from './unit-file.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** The rule's stable id, e.g. "exec-package-manager", or "systemd-analyze" for folded-in output. */
  rule: string;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  /** The unit-file line(s) that fix it. */
  fix?: string;
}

/** What the rules see: the service with its drop-ins applied, and what is known around it. */
export interface RuleContext {
  service: Unit;
  /** The service's .socket unit, when one was found. */
  socket?: Unit;
  /** False when nobody could look for a socket unit (a file read from stdin). */
  socketLookedFor: boolean;
  /** The systemd the unit is meant for: detected, or --systemd. */
  systemdVersion?: number;
  /** The app's drain grace period in ms. */
  gracePeriodMs: number;
  /** The socket name the app asks for (FileDescriptorName=). */
  fdName: string;
  /** The app's package.json, when ExecStart's script could be found on this machine. */
  app?: AppInfo;
}

export interface AppInfo {
  dir: string;
  /** Dependencies (all kinds) by name. */
  dependencies: string[];
}

export interface Rule {
  id: string;
  /** One line: the problem it catches. */
  summary: string;
  check(context: RuleContext): Finding[];
}

/** A finding on an assignment. */
export function at(rule: Rule, severity: Severity, where: Assignment, message: string, fix?: string): Finding {
  return { rule: rule.id, severity, message, file: where.file, line: where.line, ...(fix === undefined ? {} : { fix }) };
}

/** A finding about a setting that is missing from a section (reported on the section header). */
export function missing(rule: Rule, severity: Severity, unit: Unit, section: string, message: string, fix?: string): Finding {
  const where = sectionStart(unit, section);
  return { rule: rule.id, severity, message, file: where.file, line: where.line, ...(fix === undefined ? {} : { fix }) };
}

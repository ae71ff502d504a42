/**
 * A systemd unit file as systemd reads it (systemd.syntax(7)): sections, `Key=Value`
 * assignments with their line numbers, `#`/`;` comments, backslash continuations,
 * and drop-ins applied on top. An empty assignment (`Key=`) resets a list setting,
 * so the effective value of a key is what follows its last empty assignment.
 */

export interface Assignment {
  section: string;
  key: string;
  value: string;
  /** The file it was read from (a path, or a label such as "<stdin>"). */
  file: string;
  /** 1-based line of the key (the first line of a continued assignment). */
  line: number;
}

export interface UnitSource {
  file: string;
  text: string;
}

export interface Unit {
  /** The unit's name, e.g. "hello.service". */
  name: string;
  /** The main file first, then its drop-ins in the order systemd applies them. */
  files: string[];
  assignments: Assignment[];
}

/** Reads one file's assignments; unknown syntax is skipped the way systemd skips it (with a warning there). */
export function parseUnitText(text: string, file: string): Assignment[] {
  const out: Assignment[] = [];
  const lines = text.split(/\r?\n/);
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // A trailing backslash joins the next line (comment lines inside are skipped).
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.trim();
      line = next.startsWith('#') || next.startsWith(';') ? line : `${line.slice(0, -1)} ${next}`;
    }
    if (line.endsWith('\\')) line = line.slice(0, -1);
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      // The header itself, as an assignment with no key: where a missing setting belongs.
      out.push({ section, key: '', value: '', file, line: start + 1 });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), file, line: start + 1 });
  }
  return out;
}

/** The unit from its main file and drop-ins (already in systemd's order). */
export function parseUnit(name: string, sources: UnitSource[]): Unit {
  return { name, files: sources.map((s) => s.file), assignments: sources.flatMap((s) => parseUnitText(s.text, s.file)) };
}

/** Every assignment of `key` in `section` that is still in effect (after the last empty one). */
export function entries(unit: Unit, section: string, key: string): Assignment[] {
  const all = unit.assignments.filter((a) => a.section === section && a.key === key);
  const lastReset = all.map((a) => a.value === '').lastIndexOf(true);
  return all.slice(lastReset + 1);
}

/** The assignment in effect for a single-valued setting: the last one. */
export function last(unit: Unit, section: string, key: string): Assignment | undefined {
  const all = unit.assignments.filter((a) => a.section === section && a.key === key);
  return all[all.length - 1];
}

/** Where a setting missing from `section` would go: its header in the main file (else line 1). */
export function sectionStart(unit: Unit, section: string): { file: string; line: number } {
  const header = unit.assignments.find((a) => a.section === section && a.key === '');
  return header ? { file: header.file, line: header.line } : { file: unit.files[0] ?? unit.name, line: 1 };
}

/** Space-separated words of every assignment in effect, honouring simple quotes. */
export function words(value: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** systemd's boolean parser (parse_boolean()). undefined when the value is not one. */
export function bool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(v)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(v)) return false;
  return undefined;
}

/**
 * A systemd time span (systemd.time(7)) in ms: "45", "45s", "1min 30s", "500ms",
 * "infinity" (Infinity). A bare number is seconds. undefined when it does not parse.
 */
export function timeSpanMs(value: string): number | undefined {
  const v = value.trim();
  if (v === 'infinity') return Infinity;
  const units: Record<string, number> = {
    us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000,
    m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
    d: 86_400_000, day: 86_400_000, days: 86_400_000,
  };
  const re = /(\d+(?:\.\d+)?)\s*([a-z]*)/gy;
  let total = 0;
  let matched = false;
  let rest = v;
  while (rest.length > 0) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m || m[0] === '') return undefined;
    const factor = m[2] === '' ? 1000 : units[m[2]!];
    if (factor === undefined) return undefined;
    total += Number(m[1]) * factor;
    matched = true;
    rest = rest.slice(m[0].length).trimStart();
  }
  return matched ? total : undefined;
}

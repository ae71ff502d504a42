/**
 * `node-systemd doctor`: reads a unit (a file with its drop-ins, or an installed
 * unit through `systemctl cat`), runs the rules, and folds in what
 * `systemd-analyze verify` and `security --offline=yes` say when they exist.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_FD_NAME, DEFAULT_GRACE_PERIOD_MS, NotifyError } from '@node-systemd/notify';
import type { AppInfo, Finding, RuleContext, Severity } from './findings.js';
import { parseExecStart } from './exec-start.js';
import { processRules } from './rules-process.js';
import { sandboxRules } from './rules-sandbox.js';
import { analyzeSecurity, analyzeVerify, installedSystemdVersion, systemctlCat, type SecurityResult } from './systemd.js';
import { entries, last, parseUnit, words, type Unit, type UnitSource } from './unit-file.js';

export const rules = [...processRules, ...sandboxRules];

export interface DoctorOptions {
  /** The systemd the unit is for. Default: the installed one (`systemctl --version`), if any. */
  systemdVersion?: number;
  /** The app's drain grace period in ms. Default: the lifecycle's default. */
  gracePeriodMs?: number;
  /** The socket name the app asks for. Default: the HTTP helpers' default. */
  fdName?: string;
  /** Run systemd-analyze verify and security when installed. Default true. */
  analyze?: boolean;
  /** Look for the app's files (ExecStart='s script) under this directory instead of /. */
  root?: string;
}

export interface DoctorReport {
  unit: string;
  files: string[];
  systemdVersion?: number;
  findings: Finding[];
  /** What could not be checked here, one sentence each. */
  notChecked: string[];
  exposure?: SecurityResult;
  /** True when there is no error. */
  ok: boolean;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** A unit file with the drop-ins beside it (FILE.d/*.conf, in name order, as systemd applies them). */
function readWithDropIns(file: string): UnitSource[] {
  const sources = [{ file, text: readFileSync(file, 'utf8') }];
  const dir = `${file}.d`;
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    for (const entry of readdirSync(dir).filter((f) => f.endsWith('.conf')).sort()) sources.push({ file: path.join(dir, entry), text: readFileSync(path.join(dir, entry), 'utf8') });
  }
  return sources;
}

interface Loaded {
  service: Unit;
  socket?: Unit;
  /** Real files systemd-analyze can read (file mode and installed units alike). */
  paths: string[];
}

function load(target: string): Loaded {
  const asFile = target.includes('/') || existsSync(target);
  if (asFile) {
    if (!existsSync(target)) throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${target}: no such file.`);
    const file = path.resolve(target);
    let unit = parseUnit(path.basename(file), readWithDropIns(file));
    let socket: Unit | undefined;
    if (unit.name.endsWith('.socket')) {
      socket = unit;
      const serviceName = last(unit, 'Socket', 'Service')?.value || unit.name.replace(/\.socket$/, '.service');
      const serviceFile = path.join(path.dirname(file), serviceName);
      if (!existsSync(serviceFile)) throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${target} is a socket unit and its service ${serviceName} is not beside it.`);
      unit = parseUnit(serviceName, readWithDropIns(serviceFile));
    } else {
      const socketFile = socketNames(unit).map((n) => path.join(path.dirname(file), n)).find((f) => existsSync(f));
      socket = socketFile ? parseUnit(path.basename(socketFile), readWithDropIns(socketFile)) : undefined;
    }
    return { service: unit, ...(socket ? { socket } : {}), paths: [unit.files[0]!, ...(socket ? [socket.files[0]!] : [])] };
  }
  const name = /\.(service|socket)$/.test(target) ? target : `${target}.service`;
  const sources = systemctlCat(name);
  if (!sources) throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${target} is not a file, and \`systemctl cat ${name}\` found no such installed unit${installedSystemdVersion() === undefined ? ' (systemctl is not available here)' : ''}.`);
  const service = parseUnit(name, sources);
  const socketSources = socketNames(service).map((n) => systemctlCat(n)).find((s) => s !== undefined);
  const socket = socketSources ? parseUnit(path.basename(socketSources[0]!.file), socketSources) : undefined;
  return { service, ...(socket ? { socket } : {}), paths: [sources[0]!.file] };
}

function socketNames(service: Unit): string[] {
  const named = entries(service, 'Service', 'Sockets').flatMap((a) => words(a.value));
  return named.length > 0 ? named : [service.name.replace(/\.service$/, '.socket')];
}

/** The app's package.json: found by walking up from ExecStart's script. */
function findApp(service: Unit, root: string): { app?: AppInfo; script?: string } {
  const script = entries(service, 'Service', 'ExecStart')
    .map((a) => parseExecStart(a.value)?.script)
    .find((s) => s?.startsWith('/'));
  if (!script) return {};
  for (let dir = path.dirname(script); ; dir = path.dirname(dir)) {
    const pkg = path.join(root, dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as Record<string, Record<string, string> | undefined>;
        const dependencies = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) => Object.keys(json[k] ?? {}));
        return { app: { dir, dependencies }, script };
      } catch {
        return { script };
      }
    }
    if (dir === '/' || dir === '.') return { script };
  }
}

/** The verify messages, each a finding on its file and line when it names one. */
function verifyFindings(paths: string[]): Finding[] | undefined {
  const result = analyzeVerify(paths);
  if (!result) return undefined;
  return result.messages.map((message) => {
    const m = /^(\/[^:]+):(\d+): (.*)$/.exec(message);
    const severity: Severity = !result.ok || /\b(fail|error|not executable|cannot|refusing)/i.test(message) ? 'error' : 'warning';
    return { rule: 'systemd-analyze-verify', severity, message: m ? m[3]! : message, ...(m ? { file: m[1]!, line: Number(m[2]) } : {}) };
  });
}

export function doctor(target: string, options: DoctorOptions = {}): DoctorReport {
  const loaded = load(target);
  const notChecked: string[] = [];
  const installed = options.systemdVersion === undefined ? installedSystemdVersion() : undefined;
  const systemdVersion = options.systemdVersion ?? installed;
  if (systemdVersion === undefined) notChecked.push('which systemd the unit is for (no systemctl here; pass --systemd N): settings that need a newer systemd were not checked');
  const { app, script } = findApp(loaded.service, options.root ?? '/');
  if (script && !app) notChecked.push(`whether the app sends READY=1 and watchdog pings: no package.json found above ${script} on this machine`);
  const context: RuleContext = {
    service: loaded.service,
    ...(loaded.socket ? { socket: loaded.socket } : {}),
    socketLookedFor: true,
    ...(systemdVersion === undefined ? {} : { systemdVersion }),
    gracePeriodMs: options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
    fdName: options.fdName ?? DEFAULT_FD_NAME,
    ...(app ? { app } : {}),
  };
  const findings = rules.flatMap((rule) => rule.check(context));
  let exposure: SecurityResult | undefined;
  if (options.analyze !== false) {
    const verified = verifyFindings(loaded.paths);
    if (verified) findings.push(...verified);
    else notChecked.push('systemd-analyze verify (not installed here): unknown keys, bad values, missing binaries');
    exposure = analyzeSecurity(loaded.paths[0]!);
    if (exposure) {
      const high = exposure.score > 1.0;
      findings.push({ rule: 'systemd-analyze-security', severity: high ? 'warning' : 'info', message: `exposure ${exposure.score} ${exposure.rating} (systemd-analyze security --offline=yes)${high ? '; `node-systemd unit` writes a unit that scores 1.0 or less: compare its [Service] hardening block' : ''}.` , file: loaded.paths[0]! });
    } else notChecked.push('the exposure score (systemd-analyze security --offline=yes needs systemd 250 or newer)');
  }
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0));
  return {
    unit: loaded.service.name,
    files: [...loaded.service.files, ...(loaded.socket?.files ?? [])],
    ...(systemdVersion === undefined ? {} : { systemdVersion }),
    findings,
    notChecked,
    ...(exposure ? { exposure } : {}),
    ok: !findings.some((f) => f.severity === 'error'),
  };
}

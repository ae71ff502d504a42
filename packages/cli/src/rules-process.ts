/**
 * Rules about the process systemd supervises: who the main PID is, how it tells
 * systemd it is ready and alive, and how it is stopped and restarted.
 */
import { DEFAULT_WATCHDOG_FRACTION } from '@node-systemd/notify';
import { at, missing, type Finding, type Rule, type RuleContext } from './findings.js';
import { basename, parseExecStart } from './exec-start.js';
import { entries, last, timeSpanMs, words } from './unit-file.js';

const S = 'Service';
const NODE_FIX = 'ExecStart=/usr/bin/node /opt/APP/dist/app.js';

const typeOf = (c: RuleContext): string => last(c.service, S, 'Type')?.value || 'simple';
const isNotifyType = (c: RuleContext): boolean => /^notify(-reload)?$/.test(typeOf(c));
const execStarts = (c: RuleContext) => entries(c.service, S, 'ExecStart');

const execPackageManager: Rule = {
  id: 'exec-package-manager',
  summary: 'ExecStart= runs npm/npx/yarn/pnpm/pm2: it becomes the main PID, READY=1 from node is dropped and SIGTERM is not passed on',
  check(c) {
    return execStarts(c).flatMap((a) => {
      const exec = parseExecStart(a.value);
      const name = exec && basename(exec.program);
      if (!name || !/^(npm|npx|yarn|pnpm|corepack|pm2|pm2-runtime)$/.test(name)) return [];
      const why = name.startsWith('pm2')
        ? 'pm2 then supervises the app instead of systemd, and READY=1, the watchdog and SIGTERM stop at pm2'
        : `${name} becomes the main PID: under NotifyAccess=main systemd drops READY=1 from the node child ("reception only permitted for main PID"), and ${name} does not forward SIGTERM, so nothing drains`;
      return [at(this, 'error', a, `ExecStart= runs ${name}: ${why}. Run node itself.`, NODE_FIX)];
    });
  },
};

/** The shell command with its last simple command run by exec (so node replaces the shell). */
const withExec = (command: string): string => {
  const m = /^(.*(?:&&|;))\s*(.*)$/s.exec(command.trim());
  return m ? `${m[1]} exec ${m[2]}` : `exec ${command.trim()}`;
};

const execShell: Rule = {
  id: 'exec-shell-without-exec',
  summary: 'ExecStart= runs "sh -c" without exec: the shell is the main PID, not node',
  check(c) {
    return execStarts(c).flatMap((a) => {
      const exec = parseExecStart(a.value);
      if (!exec || !/^(sh|bash|dash|zsh|ash)$/.test(basename(exec.program))) return [];
      const i = exec.args.indexOf('-c');
      const command = i >= 0 ? exec.args[i + 1] : undefined;
      if (command !== undefined && /(^|&&|;)\s*exec\s/.test(command)) return [];
      return [at(this, 'error', a, `ExecStart= runs a shell (${basename(exec.program)}) that stays the main PID: READY=1 and watchdog pings from node are dropped and SIGTERM reaches the shell. Start node with exec, or run it directly.`, command ? `ExecStart=${exec.program} -c '${withExec(command)}'` : NODE_FIX)];
    });
  },
};

const execRelativeProgram: Rule = {
  id: 'exec-relative-program',
  summary: 'ExecStart= names its program without an absolute path: systemd looks only in its fixed PATH, not nvm or a user PATH',
  check(c) {
    return execStarts(c).flatMap((a) => {
      const exec = parseExecStart(a.value);
      if (!exec || exec.program.startsWith('/')) return [];
      return [at(this, exec.program.includes('/') ? 'error' : 'warning', a, `ExecStart= runs "${exec.program}" by a relative name: systemd searches only /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin, not nvm or the PATH of your shell, and a relative path is refused. Use the absolute path (\`command -v ${basename(exec.program)}\`).`, `ExecStart=/usr/bin/${basename(exec.program)}${exec.args.length ? ` ${exec.args.join(' ')}` : ''}`)];
    });
  },
};

const execRelativeScript: Rule = {
  id: 'exec-relative-script',
  summary: "node's script is a relative path and WorkingDirectory= is not set: node looks for it in /",
  check(c) {
    if (last(c.service, S, 'WorkingDirectory')?.value) return [];
    return execStarts(c).flatMap((a) => {
      const script = parseExecStart(a.value)?.script;
      if (script === undefined || script.startsWith('/')) return [];
      return [at(this, 'error', a, `node runs "${script}" relative to the working directory, which is / for a service without WorkingDirectory=: MODULE_NOT_FOUND at every start. Give the absolute path.`, `ExecStart=/usr/bin/node /opt/APP/${script.replace(/^\.\//, '')}`)];
    });
  },
};

const typeNotNotify: Rule = {
  id: 'type-not-notify',
  summary: 'Type=simple/exec/forking/oneshot for a node-systemd app: systemctl start does not wait for READY=1 (forking never finishes starting)',
  check(c) {
    const type = typeOf(c);
    if (isNotifyType(c)) return [];
    const fix = 'Type=notify';
    const where = last(c.service, S, 'Type');
    if (type === 'forking' || type === 'oneshot') {
      const why = type === 'forking' ? 'systemd waits for node to fork and exit, which it never does, so the start times out' : 'systemd waits for node to exit, which a server never does';
      return [where ? at(this, 'error', where, `Type=${type}: ${why}.`, fix) : missing(this, 'error', c.service, S, `Type=${type}.`, fix)];
    }
    const message = `Type=${type}${where ? '' : ' (the default)'}: systemctl start returns as soon as node is started, not when it listens, and units ordered After= this one start too early. The app sends READY=1 once it listens.`;
    return [where ? at(this, 'warning', where, message, fix) : missing(this, 'warning', c.service, S, message, fix)];
  },
};

const notifyAccess: Rule = {
  id: 'notify-access',
  summary: 'NotifyAccess=none (READY=1 is dropped) or all (any process of the service may send READY or STOPPING)',
  check(c) {
    const a = last(c.service, S, 'NotifyAccess');
    if (!a) return [];
    if (a.value === 'none' && (isNotifyType(c) || last(c.service, S, 'WatchdogSec'))) {
      return [at(this, 'error', a, 'NotifyAccess=none: systemd ignores READY=1 and the watchdog pings, so the start times out (or the watchdog kills the service).', 'NotifyAccess=main')];
    }
    if (a.value === 'all') {
      return [at(this, 'info', a, 'NotifyAccess=all lets any process of the service send READY=1 or STOPPING=1; node is the main PID, so main is enough (all is for cluster workers that notify themselves).', 'NotifyAccess=main')];
    }
    return [];
  },
};

const watchdogWithoutNotify: Rule = {
  id: 'watchdog-without-notify',
  summary: 'WatchdogSec= without Type=notify: the watchdog runs from exec, before the app can ping',
  check(c) {
    const a = last(c.service, S, 'WatchdogSec');
    const ms = a && timeSpanMs(a.value);
    if (!a || !ms || isNotifyType(c)) return [];
    return [at(this, 'warning', a, `WatchdogSec= with Type=${typeOf(c)}: the timer starts when node is exec'd, not when it is ready, so a slow start (loading modules, connecting) is killed as a hang.`, 'Type=notify')];
  },
};

const watchdogTooShort: Rule = {
  id: 'watchdog-too-short',
  summary: 'WatchdogSec= under 2 s: a GC pause or a busy tick is taken for a hang',
  check(c) {
    const a = last(c.service, S, 'WatchdogSec');
    const ms = a && timeSpanMs(a.value);
    if (!a || !ms || ms >= 2000) return [];
    return [at(this, 'warning', a, `WatchdogSec=${a.value}: the app pings every ${Math.round(ms * DEFAULT_WATCHDOG_FRACTION)} ms, and a major GC or one slow request can stall the event loop that long; restarts follow for no real fault.`, 'WatchdogSec=10s')];
  },
};

const stopTimeout: Rule = {
  id: 'timeout-stop-below-grace',
  summary: "TimeoutStopSec= shorter than the app's drain grace period: systemd SIGKILLs a drain in progress",
  check(c) {
    const a = last(c.service, S, 'TimeoutStopSec') ?? last(c.service, S, 'TimeoutSec');
    const ms = a ? timeSpanMs(a.value) : 90_000;
    if (ms === undefined || ms === 0 || ms > c.gracePeriodMs) return [];
    const fix = `TimeoutStopSec=${Math.ceil(c.gracePeriodMs / 1000) + 15}s`;
    const message = `${a ? `${a.key}=${a.value}` : 'TimeoutStopSec='} is not longer than the drain grace period (${c.gracePeriodMs / 1000} s): systemd sends SIGKILL while requests are still being answered, and the unit ends failed.`;
    return [a ? at(this, 'error', a, message, fix) : missing(this, 'error', c.service, S, message, fix)];
  },
};

const successExit143: Rule = {
  id: 'success-exit-143',
  summary: 'SuccessExitStatus=143 hides a process that died of SIGTERM without draining',
  check(c) {
    return entries(c.service, S, 'SuccessExitStatus').flatMap((a) =>
      words(a.value).includes('143')
        ? [at(this, 'warning', a, 'SuccessExitStatus=143 counts "killed by an unhandled SIGTERM" as success. Exit 143 means nothing drained: requests in flight were cut. Let the app handle SIGTERM (it then exits 0) and drop this line.', 'SuccessExitStatus=')]
        : [],
    );
  },
};

const killMode: Rule = {
  id: 'kill-mode',
  summary: 'KillMode=process or none: children outlive the service',
  check(c) {
    const a = last(c.service, S, 'KillMode');
    if (!a || (a.value !== 'process' && a.value !== 'none')) return [];
    return [at(this, 'warning', a, `KillMode=${a.value}: only ${a.value === 'none' ? 'nothing' : 'node'} gets SIGTERM and children (workers, spawned tools) are left running after the stop, holding ports and files. mixed sends SIGTERM to node, which drains, and SIGKILL to what is left.`, 'KillMode=mixed')];
  },
};

const killSignal: Rule = {
  id: 'kill-signal',
  summary: 'KillSignal= other than SIGTERM/SIGINT: the app cannot drain',
  check(c) {
    const a = last(c.service, S, 'KillSignal');
    if (!a || /^(SIG)?(TERM|INT|15|2)$/.test(a.value)) return [];
    return [at(this, 'warning', a, `KillSignal=${a.value}: the app drains on SIGTERM (or SIGINT); on ${a.value} it cannot finish the requests in flight.`, 'KillSignal=SIGTERM')];
  },
};

const noRestart: Rule = {
  id: 'no-restart',
  summary: 'No Restart=: a crash or a watchdog kill leaves the service down',
  check(c) {
    const a = last(c.service, S, 'Restart');
    const message = 'without Restart= a crash, an uncaught exception or a watchdog kill leaves the service down until someone restarts it.';
    if (!a) return [missing(this, 'warning', c.service, S, `No Restart=: ${message}`, 'Restart=on-failure')];
    return a.value === 'no' ? [at(this, 'warning', a, `Restart=no: ${message}`, 'Restart=on-failure')] : [];
  },
};

const appNotNotifying: Rule = {
  id: 'app-does-not-notify',
  summary: 'Type=notify or WatchdogSec= for an app with no sd_notify client: no READY=1 (start times out), no pings (SIGABRT loop)',
  check(c) {
    if (!c.app) return [];
    if (c.app.dependencies.some((d) => d.startsWith('@node-systemd/') || /^(sd-notify|systemd-notify|sd-notify-lite|notify-systemd)$/.test(d))) return [];
    const out: Finding[] = [];
    const type = last(c.service, S, 'Type');
    if (type && isNotifyType(c)) out.push(at(this, 'error', type, `Type=${type.value}, but the app in ${c.app.dir} has no sd_notify client among its dependencies: it never sends READY=1, so the start fails at TimeoutStartSec=.`, 'Type=exec'));
    const watchdog = last(c.service, S, 'WatchdogSec');
    if (watchdog && timeSpanMs(watchdog.value)) out.push(at(this, 'error', watchdog, `WatchdogSec=${watchdog.value}, but the app in ${c.app.dir} never pings: systemd kills it with SIGABRT every ${watchdog.value} and restarts it, forever.`, 'WatchdogSec=0'));
    return out;
  },
};

export const processRules: Rule[] = [
  execPackageManager,
  execShell,
  execRelativeProgram,
  execRelativeScript,
  typeNotNotify,
  notifyAccess,
  appNotNotifying,
  watchdogWithoutNotify,
  watchdogTooShort,
  stopTimeout,
  successExit143,
  killMode,
  killSignal,
  noRestart,
];

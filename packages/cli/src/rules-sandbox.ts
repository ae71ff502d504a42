/**
 * Rules about the sandbox and the sockets: hardening settings that break Node or
 * the notify socket, listening sockets nobody can reach, and settings the target
 * systemd does not have yet.
 */
import { at, missing, type Finding, type Rule, type RuleContext } from './findings.js';
import { parseExecStart } from './exec-start.js';
import { bool, entries, last, words } from './unit-file.js';

const S = 'Service';

/** The address families left allowed by RestrictAddressFamilies= (undefined: not restricted). */
function allowedFamilies(c: RuleContext): { allowed: (family: string) => boolean; where: ReturnType<typeof last> } | undefined {
  const list = entries(c.service, S, 'RestrictAddressFamilies');
  if (list.length === 0 || list.every((a) => a.value === 'none')) return undefined;
  // Later assignments add to the list; "~" makes it a deny list (the first assignment decides the mode).
  const deny = list[0]!.value.startsWith('~');
  const named = new Set(list.flatMap((a) => words(a.value.replace(/^~/, ''))));
  return { allowed: (f) => (deny ? !named.has(f) : named.has(f)), where: list[list.length - 1] };
}

const privateNetwork = (c: RuleContext): boolean => bool(last(c.service, S, 'PrivateNetwork')?.value) === true;

const restrictNoUnix: Rule = {
  id: 'restrict-af-no-unix',
  summary: 'RestrictAddressFamilies= without AF_UNIX: the notify socket and the journal fail with EAFNOSUPPORT',
  check(c) {
    const families = allowedFamilies(c);
    if (!families || families.allowed('AF_UNIX')) return [];
    return [at(this, 'error', families.where!, 'RestrictAddressFamilies= does not allow AF_UNIX: socket() fails with EAFNOSUPPORT, so READY=1, the watchdog pings and journal logging are all lost (the start times out).', `${families.where!.key}=${families.where!.value.startsWith('~') ? '~AF_PACKET' : `AF_UNIX ${words(families.where!.value).filter((w) => w !== 'AF_UNIX').join(' ')}`.trim()}`)];
  },
};

const restrictNoInet: Rule = {
  id: 'restrict-af-no-inet',
  summary: 'The app binds its own port but RestrictAddressFamilies= forbids AF_INET/AF_INET6',
  check(c) {
    const families = allowedFamilies(c);
    if (!families || c.socket || !c.socketLookedFor || privateNetwork(c)) return [];
    if (families.allowed('AF_INET') || families.allowed('AF_INET6')) return [];
    return [at(this, 'error', families.where!, 'No socket unit passes a listening socket, so the app binds its port itself, and RestrictAddressFamilies= forbids AF_INET and AF_INET6: listen() fails with EAFNOSUPPORT.', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6')];
  },
};

const memoryDenyWriteExecute: Rule = {
  id: 'memory-deny-write-execute',
  summary: "MemoryDenyWriteExecute=yes: V8's JIT needs writable and executable memory",
  check(c) {
    const a = last(c.service, S, 'MemoryDenyWriteExecute');
    if (!a || bool(a.value) !== true) return [];
    return [at(this, 'error', a, "MemoryDenyWriteExecute=yes: V8's JIT compiler maps memory writable and executable; node crashes at start or runs with the JIT off (much slower).", 'MemoryDenyWriteExecute=no')];
  },
};

const stdinSocket: Rule = {
  id: 'stdin-socket',
  summary: 'StandardInput=socket: the socket arrives as stdin, not as LISTEN_FDS',
  check(c) {
    const a = last(c.service, S, 'StandardInput');
    if (!a || a.value !== 'socket') return [];
    return [at(this, 'error', a, 'StandardInput=socket is inetd style: the socket arrives as fd 0, with no LISTEN_FDS, so the app finds no passed socket and binds its own port (or fails under PrivateNetwork=yes).', 'StandardInput=null')];
  },
};

const privateNetworkNoSocket: Rule = {
  id: 'private-network-no-socket',
  summary: 'PrivateNetwork=yes with no .socket unit: the app listens in an empty network namespace',
  check(c) {
    const a = last(c.service, S, 'PrivateNetwork');
    if (!a || bool(a.value) !== true || c.socket || !c.socketLookedFor) return [];
    return [at(this, 'error', a, 'PrivateNetwork=yes and no socket unit: the app gets a network namespace with only loopback, so whatever port it binds, nobody outside can connect. Add a .socket unit (the socket then lives outside), or drop this line.', 'PrivateNetwork=no')];
  },
};

const socketAccept: Rule = {
  id: 'socket-accept',
  summary: 'Accept=yes in the .socket: one service instance per connection (inetd style), not a listening socket',
  check(c) {
    const a = c.socket && last(c.socket, 'Socket', 'Accept');
    if (!a || bool(a.value) !== true) return [];
    return [at(this, 'error', a, 'Accept=yes starts a new instance of a templated service for every connection with the connection as its socket; a Node server wants the listening socket itself.', 'Accept=no')];
  },
};

const socketFdName: Rule = {
  id: 'socket-fd-name',
  summary: 'The .socket has no FileDescriptorName= (or another name) while the app asks for its socket by name',
  check(c) {
    if (!c.socket) return [];
    const a = last(c.socket, 'Socket', 'FileDescriptorName');
    if (a?.value === c.fdName) return [];
    const listens = c.socket.assignments.filter((x) => x.section === 'Socket' && /^Listen/.test(x.key) && x.value !== '').length;
    const message = `${a ? `FileDescriptorName=${a.value}` : `No FileDescriptorName= (the socket is then named "${c.socket.name}")`}, and the app asks for "${c.fdName}": ${listens > 1 ? 'with several sockets it cannot tell which one is its own and fails' : 'it still takes the only socket passed, but a second Listen line or an fd-store entry makes it fail'}.`;
    const fix = `FileDescriptorName=${c.fdName}`;
    return [a ? at(this, listens > 1 ? 'error' : 'warning', a, message, fix) : missing(this, listens > 1 ? 'error' : 'warning', c.socket, 'Socket', message, fix)];
  },
};

/** The app's directories: where its script and working directory are. */
function appPaths(c: RuleContext): { path: string; where: NonNullable<ReturnType<typeof last>> }[] {
  const out = entries(c.service, S, 'ExecStart').flatMap((a) => {
    const script = parseExecStart(a.value)?.script;
    return script?.startsWith('/') ? [{ path: script, where: a }] : [];
  });
  const wd = last(c.service, S, 'WorkingDirectory');
  if (wd && wd.value.replace(/^-/, '').startsWith('/')) out.push({ path: wd.value.replace(/^-/, ''), where: wd });
  return out;
}

const moveFix = (key: string): string => (key === 'WorkingDirectory' ? 'WorkingDirectory=/opt/APP' : 'ExecStart=/usr/bin/node /opt/APP/dist/app.js');

const hiddenAppPath: Rule = {
  id: 'app-path-hidden',
  summary: 'The app lives under /home, /root, /tmp or /var/tmp, which ProtectHome=, PrivateTmp= or DynamicUser= hide from it',
  check(c) {
    const protectHome = last(c.service, S, 'ProtectHome')?.value;
    const hidesHome = protectHome === 'tmpfs' || bool(protectHome) === true;
    const dynamic = bool(last(c.service, S, 'DynamicUser')?.value) === true;
    const privateTmp = bool(last(c.service, S, 'PrivateTmp')?.value) === true;
    const out: Finding[] = [];
    for (const { path, where } of appPaths(c)) {
      if (hidesHome && /^\/(home|root|run\/user)(\/|$)/.test(path)) {
        out.push(at(this, 'error', where, `${path} is under /home, /root or /run/user, which ProtectHome=${protectHome} hides from the service: node cannot find it (MODULE_NOT_FOUND, or status=200/CHDIR). Install the app under /opt or /srv.`, moveFix(where.key)));
      } else if ((privateTmp || dynamic) && /^\/(tmp|var\/tmp)(\/|$)/.test(path)) {
        out.push(at(this, 'error', where, `${path} is under /tmp or /var/tmp, which ${privateTmp ? 'PrivateTmp=yes' : 'DynamicUser=yes (it implies PrivateTmp=yes)'} replaces with an empty directory: node cannot find the app. Install it under /opt or /srv.`, moveFix(where.key)));
      }
    }
    return out;
  },
};

const dynamicUserWritable: Rule = {
  id: 'dynamic-user-writable-paths',
  summary: 'DynamicUser=yes with ReadWritePaths= outside StateDirectory=: the transient user cannot own files there',
  check(c) {
    if (bool(last(c.service, S, 'DynamicUser')?.value) !== true) return [];
    return entries(c.service, S, 'ReadWritePaths').flatMap((a) =>
      words(a.value)
        .map((p) => p.replace(/^[-+]/, ''))
        .filter((p) => !/^\/(var\/lib|var\/cache|var\/log|run)\/private\//.test(p))
        .map((p) => {
          const dir = p.replace(/^\/var\/lib\//, '').replace(/^\//, '').replace(/\//g, '-');
          return at(this, 'warning', a, `ReadWritePaths=${p} with DynamicUser=yes: the user's UID changes at every start, so files it created there earlier belong to nobody it can be, and it may not write there at all. StateDirectory= (or CacheDirectory=, LogsDirectory=) gives it a directory systemd owns and chowns for it.`, `StateDirectory=${dir}`);
        }),
    );
  },
};

const versionGated: { key: string; value?: RegExp; since: number; what: string; fix: string }[] = [
  { key: 'Type', value: /^notify-reload$/, since: 253, what: 'Type=notify-reload', fix: 'Type=notify' },
  { key: 'ReloadSignal', since: 253, what: 'ReloadSignal=', fix: 'ReloadSignal=' },
  { key: 'FileDescriptorStorePreserve', since: 254, what: 'FileDescriptorStorePreserve=', fix: 'FileDescriptorStorePreserve=' },
  { key: 'RestartMode', since: 254, what: 'RestartMode=', fix: 'RestartMode=' },
];

const newerSystemd: Rule = {
  id: 'needs-newer-systemd',
  summary: 'A setting the target systemd does not have (notify-reload and ReloadSignal= need 253, FileDescriptorStorePreserve= and RestartMode= 254)',
  check(c) {
    if (c.systemdVersion === undefined) return [];
    const out: Finding[] = [];
    for (const gate of versionGated) {
      const a = last(c.service, S, gate.key);
      if (!a || (gate.value && !gate.value.test(a.value)) || c.systemdVersion >= gate.since) continue;
      const serious = gate.key === 'Type';
      out.push(at(this, serious ? 'error' : 'warning', a, `${gate.what} needs systemd ${gate.since}; this is ${c.systemdVersion}, ${serious ? 'which refuses to load the unit ("Failed to parse service type")' : 'which ignores the line ("Unknown key name")'}.`, gate.fix));
    }
    return out;
  },
};

export const sandboxRules: Rule[] = [restrictNoUnix, restrictNoInet, memoryDenyWriteExecute, stdinSocket, privateNetworkNoSocket, socketAccept, socketFdName, hiddenAppPath, dynamicUserWritable, newerSystemd];

/**
 * @node-systemd/notify/register: `node --require @node-systemd/notify/register app.js`
 * (or `--import`) makes an unmodified app a Type=notify service. See service.ts.
 *
 * Off systemd (no NOTIFY_SOCKET and no LISTEN_FDS for this process) it does
 * nothing at all: this file reads two variables and returns, so nothing else of
 * the package is loaded, no listen() is patched and no timer runs.
 */
function underSystemd(env: NodeJS.ProcessEnv): boolean {
  if (env.NODE_SYSTEMD_REGISTER === '0') return false;
  return env.NOTIFY_SOCKET !== undefined || (env.LISTEN_PID !== undefined && env.LISTEN_PID === String(process.pid));
}

if (underSystemd(process.env)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./service.js') as typeof import('./service.js')).startService();
}

export {};

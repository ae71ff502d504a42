/**
 * Defaults that a unit file must agree with. The lifecycle and the watchdog use
 * them, and the `node-systemd` CLI imports them to write and check units, so a
 * change here changes both sides at once.
 */

/** How long a drain may take before open connections are destroyed (ms); systemd's own TimeoutStopSec= default is 90 s. */
export const DEFAULT_GRACE_PERIOD_MS = 30_000;

/** The watchdog pings every this fraction of WatchdogSec=; sd_watchdog_enabled(3) advises half. */
export const DEFAULT_WATCHDOG_FRACTION = 0.5;

/** The passed listening socket the HTTP helpers look for: a .socket unit's FileDescriptorName=. */
export const DEFAULT_FD_NAME = 'http';

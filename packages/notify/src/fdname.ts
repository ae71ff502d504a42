import { NotifyError } from './errors.js';

/**
 * The name of a passed or stored fd: a .socket unit's FileDescriptorName=, the
 * FDNAME= of the fd store, one entry of LISTEN_FDNAMES. systemd's rule
 * (fdname_is_valid) is at most 255 characters, each printable ASCII (0x20 to
 * 0x7e, so space is allowed and control characters and DEL are not), and no
 * ':', which separates the names in LISTEN_FDNAMES. systemd lets the empty
 * string through, but an empty FileDescriptorName= resets the name to the
 * unit's own, so no fd can be looked up by it: here a name is also non-empty.
 */
export const MAX_FDNAME_LENGTH = 255;

/** The rule in words, for error messages. */
export const FDNAME_RULE = `1 to ${MAX_FDNAME_LENGTH} printable ASCII characters without ":"`;

/** True when systemd accepts `name` as FileDescriptorName= / FDNAME= (see above). */
export function isValidFdName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_FDNAME_LENGTH && /^[\x20-\x39\x3b-\x7e]+$/.test(name);
}

/**
 * The one check of an fd name given by the app (the `fdName` option, or the
 * name argument of the fd-store functions): returns it, or throws
 * ERR_NOTIFY_INVALID_OPTION naming the rule.
 */
export function checkFdName(name: unknown, what = 'The fdName option'): string {
  if (!isValidFdName(name)) {
    throw new NotifyError('ERR_NOTIFY_INVALID_OPTION', `${what} must be a FileDescriptorName= of ${FDNAME_RULE}, got ${typeof name === 'string' ? JSON.stringify(name) : String(name)}.`);
  }
  return name;
}

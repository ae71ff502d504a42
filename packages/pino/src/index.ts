/**
 * @node-systemd/pino: pino to the systemd journal, through journald's native
 * protocol (no libsystemd): PRIORITY from the level, fields you can query, whole
 * stacks in one entry.
 *
 *   pino(options, journal())                                  in-process destination
 *   pino.transport({ target: '@node-systemd/pino' })          worker-thread transport
 *   Fastify({ logger: { stream: journal() } })                Fastify (REQ_ID on request lines)
 */
import journalTransport from './transport.js';

export { journal, type JournalDestination, type JournalDestinationOptions } from './destination.js';
export default journalTransport;

import build from 'pino-abstract-transport';
import { journal, type JournalDestinationOptions } from './destination.js';

/**
 * The same destination as a pino transport target, run in pino's worker thread:
 * `pino.transport({ target: '@node-systemd/pino', options })`.
 */
export default function journalTransport(options: JournalDestinationOptions = {}): ReturnType<typeof build> {
  const destination = journal(options);
  return build(
    async (source) => {
      for await (const line of source as AsyncIterable<string>) destination.write(line);
    },
    { parse: 'lines' },
  );
}

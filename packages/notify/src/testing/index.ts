/**
 * @node-systemd/notify/testing: test a service's systemd integration without
 * systemd. A fake manager on a real kernel socket records what the service sends;
 * spawnWithListenFds() hands it sockets the way socket activation does.
 */
export { FakeNotifyManager, type FakeManagerOptions, type ReceivedMessage } from './fake-manager.js';
export { spawnWithListenFds, type PassedFd } from './listen-fds.js';
export { FakeJournal, type FakeJournalOptions, type ReceivedJournalEntry } from './fake-journal.js';
export { decodeJournalEntry } from './journal-decode.js';

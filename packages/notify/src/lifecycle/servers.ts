import type { Server } from 'node:net';
import { ConnectionTracker } from './connections.js';
import { closeListener } from './drain.js';
import { describeServer } from './listen.js';
import type { Counts } from './status.js';

/** The servers a lifecycle looks after, each with its connection tracker. */
export class ServerSet {
  private readonly trackers = new Map<Server, ConnectionTracker>();

  constructor(
    private readonly lingerMs: number,
    private readonly draining: () => boolean,
  ) {}

  /** Idempotent. A server added, or starting to listen, after the drain began is closed at once. */
  add(server: Server): void {
    if (this.trackers.has(server)) return;
    const tracker = new ConnectionTracker(server, this.lingerMs);
    this.trackers.set(server, tracker);
    // SIGTERM during start-up: nothing may be accepted after STOPPING=1.
    server.on('listening', () => {
      if (this.draining()) closeListener(server);
    });
    if (this.draining()) {
      tracker.startDraining();
      closeListener(server);
    }
  }

  get list(): Server[] {
    return [...this.trackers.keys()];
  }

  get all(): ConnectionTracker[] {
    return [...this.trackers.values()];
  }

  /** `listening on A, B` for STATUS=. */
  describe(): string {
    const servers = this.list;
    return servers.length > 0 ? `listening on ${servers.map((server) => describeServer(server)).join(', ')}` : 'ready';
  }

  counts(): Counts {
    let connections = 0;
    let requests = 0;
    for (const tracker of this.trackers.values()) {
      connections += tracker.connectionCount;
      requests += tracker.requestCount;
    }
    return { connections, requests };
  }

  detach(): void {
    for (const tracker of this.trackers.values()) tracker.detach();
  }
}

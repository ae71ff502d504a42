'use strict';
// One sender of WATCHDOG=1, run as a child of the transport section. It sends in
// small batches, timing every call, and asks the parent (the receiver) to drain
// its queue between batches, so the kernel queue (net.unix.max_dgram_qlen, 10
// here) never fills and no call ever meets EAGAIN or blocks.
//
//   node transport-sender.cjs <library>   (NOTIFY_SOCKET set by the parent)
const { spawnSync } = require('node:child_process');

const library = process.argv[2];
const socket = process.env.NOTIFY_SOCKET;

function makeSender() {
  switch (library) {
    case 'ours-connected':
    case 'ours-unconnected': {
      const { Notifier } = require('@node-systemd/notify');
      const notifier = new Notifier({ socket, connect: library === 'ours-connected' });
      return { send: () => notifier.watchdogPing(), async: true, close: () => notifier.close() };
    }
    case 'unix-dgram':
    case 'unix-dgram-connected': {
      const unix = require('unix-dgram');
      const client = unix.createSocket('unix_dgram');
      const message = Buffer.from('WATCHDOG=1');
      let failure;
      client.on('error', (error) => { failure = error; });
      client.on('congestion', () => { failure = new Error('congestion (queue full)'); });
      if (library === 'unix-dgram-connected') {
        client.connect(socket);
        return { send: () => client.send(message), check: () => failure, close: () => client.close() };
      }
      return { send: () => client.send(message, 0, message.length, socket), check: () => failure, close: () => client.close() };
    }
    case 'node-unix-socket': {
      // napi-rs, prebuilt per platform. It has sendTo and no connect; the socket
      // holds a libuv handle, so close() is what lets this process exit.
      const { DgramSocket } = require('node-unix-socket');
      const client = new DgramSocket();
      const message = Buffer.from('WATCHDOG=1');
      let failure;
      client.on('error', (error) => { failure = error; });
      return { send: () => client.sendTo(message, 0, message.length, socket), check: () => failure, close: () => client.close() };
    }
    case 'sd-notify': {
      // libsystemd's sd_notify(): reads $NOTIFY_SOCKET, opens, sends, closes, every call.
      const sd = require('sd-notify');
      return { send: () => sd.watchdog(), close: () => {} };
    }
    case 'systemd-notify': {
      // What shell-minded recipes do. The sender is the child, so under systemd
      // NotifyAccess=main drops it; it also waits for a BARRIER answer.
      return {
        send: () => {
          const result = spawnSync('systemd-notify', ['WATCHDOG=1'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
          if (result.status !== 0) throw new Error(`systemd-notify exited ${result.status}: ${String(result.stderr).trim()}`);
        },
        close: () => {},
      };
    }
    default:
      throw new Error(`unknown library ${library}`);
  }
}

let pendingDrain;
function drain() {
  return new Promise((resolve) => {
    pendingDrain = resolve;
    process.send({ type: 'drain' });
  });
}

async function runRound(n, batch) {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + batch);
    if (sender.async) {
      for (; i < end; i++) {
        const t0 = performance.now();
        await sender.send();
        samples[i] = (performance.now() - t0) * 1000;
      }
    } else {
      for (; i < end; i++) {
        const t0 = performance.now();
        sender.send();
        samples[i] = (performance.now() - t0) * 1000;
      }
    }
    const failure = sender.check?.();
    if (failure) throw failure;
    await drain();
  }
  return Array.from(samples);
}

let sender;
process.on('message', async (message) => {
  if (message.type === 'drained') {
    pendingDrain?.();
    return;
  }
  if (message.type === 'run') {
    try {
      sender ??= makeSender();
      const samples = await runRound(message.n, message.batch);
      process.send({ type: 'result', samples });
    } catch (error) {
      process.send({ type: 'error', message: String(error?.stack ?? error) });
    }
    return;
  }
  if (message.type === 'exit') {
    sender?.close();
    process.disconnect();
  }
});
process.send({ type: 'hello', pid: process.pid });

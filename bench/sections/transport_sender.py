"""Python's socket.sendto of WATCHDOG=1: the syscall floor of the transport section.

  python3 transport_sender.py [sendto|send]   (send: connect() once, then send())

Same protocol as transport-sender.cjs, over stdin/stdout lines: the parent writes
{"n": N, "batch": B}; the child sends in batches, writes "drain" after each and
waits for "ok", then writes {"samples": [...µs]}. "exit" ends it.
"""
import json
import os
import socket
import sys
import time

address = os.environ["NOTIFY_SOCKET"]
if address.startswith("@"):
    address = "\0" + address[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
message = b"WATCHDOG=1"
connected = len(sys.argv) > 1 and sys.argv[1] == "send"
if connected:
    sock.connect(address)
clock = time.perf_counter_ns
out = sys.stdout

for line in sys.stdin:
    line = line.strip()
    if line == "exit":
        break
    request = json.loads(line)
    n, batch = request["n"], request["batch"]
    samples = [0.0] * n
    i = 0
    while i < n:
        end = min(n, i + batch)
        while i < end:
            t0 = clock()
            if connected:
                sock.send(message)
            else:
                sock.sendto(message, address)
            samples[i] = (clock() - t0) / 1000.0
            i += 1
        out.write("drain\n")
        out.flush()
        if sys.stdin.readline().strip() != "ok":
            sys.exit(2)
    out.write(json.dumps({"samples": samples}) + "\n")
    out.flush()
sock.close()

"""python-systemd's journal.send (libsystemd's sd_journal_sendv underneath): the
floor of the journal section. Same protocol as journal-sender.cjs:

  python3 journal_sender.py <entries>

Run inside a private mount namespace whose /run/systemd/journal/socket is this
process's own receiver, drained between batches of 8 (untimed, CPU subtracted).
Writes one JSON line to fd 3.
"""
import json
import os
import socket
import sys
import time

from systemd import journal

n = int(sys.argv[1])
BATCH = 8
os.makedirs("/run/systemd/journal", exist_ok=True)
receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
receiver.bind("/run/systemd/journal/socket")
receiver.setblocking(False)
received = 0
drain_cpu = 0.0


def drain():
    global received, drain_cpu
    start = time.process_time()
    while True:
        try:
            receiver.recv(65536)
            received += 1
        except BlockingIOError:
            break
    drain_cpu += time.process_time() - start


def send():
    journal.send("GET /orders/42 answered 200 in 3 ms", PRIORITY="6", SYSLOG_IDENTIFIER="bench",
                 CODE_FILE="bench.js", CODE_LINE=1, CODE_FUNC="run")


for i in range(400):
    send()
    if i % BATCH == BATCH - 1:
        drain()
drain()
received = 0
drain_cpu = 0.0
clock = time.perf_counter_ns
samples = [0.0] * n
cpu_start = time.process_time()
wall_start = clock()
i = 0
while i < n:
    end = min(n, i + BATCH)
    while i < end:
        t0 = clock()
        send()
        samples[i] = (clock() - t0) / 1000
        i += 1
    drain()
wall_us = (clock() - wall_start) / 1000
cpu_us = (time.process_time() - cpu_start - drain_cpu) * 1e6
drain()
os.write(3, (json.dumps({"samples": samples, "cpuUs": cpu_us, "wallUs": wall_us, "received": received, "warm": 400, "viaMemfd": 0}) + "\n").encode())

"""A stand-in for a systemd .socket unit, for the drain section.

  python3 socket_holder.py HOLD_MS COMMAND [ARGS...]

Binds a listening TCP socket on 127.0.0.1 (any port), prints "holder <port> <pid>",
and runs COMMAND with the socket as fd 3 and LISTEN_FDS=1, LISTEN_PID=<its pid>,
LISTEN_FDNAMES=http, exactly as systemd passes it. Like systemd it keeps its own
copy of the socket open and never accepts: once the service closed its copy, new
connections wait in the kernel's backlog for the next process. After COMMAND exits
it prints "exited <code>" and holds the socket HOLD_MS longer, then closes it.
"""
import os
import socket
import sys
import time

hold_ms = int(sys.argv[1])
command = sys.argv[2:]
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(1024)
port = sock.getsockname()[1]

pid = os.fork()
if pid == 0:
    try:
        if sock.fileno() != 3:
            os.dup2(sock.fileno(), 3)
        os.set_inheritable(3, True)  # dup2 onto itself would keep FD_CLOEXEC
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="http")
        os.execvpe(command[0], command, env)
    finally:
        os._exit(127)

print(f"holder {port} {pid}", flush=True)
_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    code = -os.WTERMSIG(status)
else:
    code = os.WEXITSTATUS(status)
print(f"exited {code}", flush=True)
time.sleep(hold_ms / 1000)
sock.close()

#!/usr/bin/python3
"""A parent that waits for its child before reading their socket pair.

multiprocessing.Pipe() is a Unix socket pair.  The child sends more than
the sockets buffer and blocks; the parent waits for the child first.

Usage: py_socket_wait.py [SECONDS]: both end by SIGALRM after SECONDS
(30 by default).
"""

import multiprocessing
import os
import signal
import sys


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    signal.alarm(seconds)
    mine, theirs = multiprocessing.Pipe()
    pid = os.fork()
    if pid == 0:
        signal.alarm(seconds)
        mine.close()
        theirs.send_bytes(b"x" * (4 << 20))
        os._exit(0)
    theirs.close()
    os.waitpid(pid, 0)
    print(len(mine.recv_bytes()))


if __name__ == "__main__":
    main()

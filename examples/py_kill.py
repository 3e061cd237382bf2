#!/usr/bin/python3
"""End a child process with SIGTERM once it reports that it is ready, as
a supervisor stops a worker."""

import os
import signal
import sys


def run_child(ready_w, block_r):
    """Report ready, then block until killed; never return."""
    try:
        signal.alarm(20)
        os.write(ready_w, b"r")
        # No process writes to this pipe, so the read blocks until SIGTERM.
        os.read(block_r, 1)
    finally:
        os._exit(1)


def main():
    ready_r, ready_w = os.pipe()
    block_r, block_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(block_w)
        run_child(ready_w, block_r)
    os.close(ready_w)
    os.close(block_r)
    if os.read(ready_r, 1) != b"r":
        print("py_kill: child exited before it was ready", file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return 1
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    # block_w stays open until here, so the child cannot see EOF first.
    os.close(block_w)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM:
        print("child killed by SIGTERM")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())

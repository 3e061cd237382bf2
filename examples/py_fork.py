#!/usr/bin/python3
"""Fork a child from Python with os.fork() and wait for it, as a
pre-forking server or a daemon does."""

import os
import sys


def spawn_child():
    """Fork a child that prints its pid and exits 0; return its pid."""
    sys.stdout.flush()
    pid = os.fork()  # site: spawn_child
    if pid == 0:
        try:
            print(f"child pid {os.getpid()}", flush=True)
        finally:
            os._exit(0)
    return pid


def main():
    pid = spawn_child()
    print(f"parent pid {os.getpid()}", flush=True)
    _, status = os.waitpid(pid, 0)
    return 0 if os.waitstatus_to_exitcode(status) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

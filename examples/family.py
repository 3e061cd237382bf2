#!/usr/bin/python3
"""Fork a small family from a function, as a pre-forking server does.

spawn_children() forks three children, each exiting with its index;
the parent waits for all of them and exits 0 when each exit code is right.
"""

import os
import sys


def spawn_children(count):
    """Fork count children and return their pids in order."""
    pids = []
    for index in range(count):
        pid = os.fork()  # site: spawn_children
        if pid == 0:
            os._exit(index)
        pids.append(pid)
    return pids


def main():
    pids = spawn_children(3)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    return 0 if codes == list(range(3)) else 1


if __name__ == "__main__":
    sys.exit(main())

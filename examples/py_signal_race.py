#!/usr/bin/python3
"""A stress load for the tests, not an example for users: a child sends
its parent SIGABRT 300 times, 2 ms apart, while the parent calls Python
code from C (sorted() with a key function).  The signals then stop the
parent at any instruction of the eval loop's calls, the bookkeeping
between two Python frames included.

The parent ignores the signals in a handler and exits 0 once the child
has ended; everything ends by SIGALRM after 60 seconds.
"""

import os
import signal
import sys
import time

SIGNALS = 300


def key(value):
    return -value


def work():
    for _ in range(20):
        sorted(range(50), key=key)


def main():
    signal.alarm(60)
    signal.signal(signal.SIGABRT, lambda number, frame: None)
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        for _ in range(SIGNALS):
            os.kill(parent, signal.SIGABRT)
            time.sleep(0.002)
        os._exit(0)
    while os.waitpid(child, os.WNOHANG) == (0, 0):
        work()
    return 0


if __name__ == "__main__":
    sys.exit(main())

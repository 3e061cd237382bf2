#!/usr/bin/python3
"""A multiprocessing Pool whose worker is killed with SIGKILL.

One task kills its own worker.  The pool starts a new worker, but the
task's result never comes, so Pool.map() waits forever.

Usage: py_pool_killed.py [SECONDS]: the parent and the workers end by
SIGALRM after SECONDS (30 by default).
"""

import multiprocessing
import os
import signal
import sys


def work(number):
    if number == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return number


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    signal.alarm(seconds)
    context = multiprocessing.get_context("fork")
    pool = context.Pool(2, initializer=signal.alarm, initargs=(seconds,))
    print(pool.map(work, range(8)))


if __name__ == "__main__":
    main()

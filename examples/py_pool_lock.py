#!/usr/bin/python3
"""A multiprocessing Pool forked while another thread holds a lock.

The workers are forked (the fork start method) while a background thread
holds a threading.Lock that the task takes.  Each worker gets the lock
locked and no thread to release it, so every task waits forever and so
does Pool.map().

Usage: py_pool_lock.py [SECONDS]: the parent and the workers end by
SIGALRM after SECONDS (30 by default).
"""

import multiprocessing
import signal
import sys
import threading

lock = threading.Lock()


def double(number):
    with lock:
        return 2 * number


def hold(holding, release):
    with lock:
        holding.set()
        release.wait()


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    signal.alarm(seconds)
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold, args=(holding, release))
    holder.start()
    holding.wait()
    context = multiprocessing.get_context("fork")
    pool = context.Pool(2, initializer=signal.alarm, initargs=(seconds,))
    release.set()
    holder.join()
    print(pool.map(double, range(4)))


if __name__ == "__main__":
    main()

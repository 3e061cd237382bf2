#!/usr/bin/python3
"""Spread work over a multiprocessing pool of four forked worker
processes, the usual way to use several CPUs from Python."""

import multiprocessing
import sys


def square(x):
    return x * x


def main():
    context = multiprocessing.get_context("fork")
    pool = context.Pool(4)
    try:
        results = pool.map(square, range(20))
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
    print(sum(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

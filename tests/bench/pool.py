"""A benchmark workload: a multiprocessing Pool(4) maps 400 small tasks.

The start method is fork, the default on Linux for Python 3.11, set here
so that the workload stays the same on later versions.
"""
import multiprocessing
import sys


def square(n):
    return n * n


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        total = sum(pool.map(square, range(tasks), chunksize=1))
    expected = sum(n * n for n in range(tasks))
    return 0 if total == expected else 1


if __name__ == "__main__":
    sys.exit(main())

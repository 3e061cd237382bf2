#!/usr/bin/python3
"""A multiprocessing Pool whose two tasks wait, so that a snapshot can
find each worker inside the user's task function.

Each task reports that it started, then waits until the main process
releases it.  The main process prints "ready" once both tasks run, waits
for its standard input to reach end of file, releases the tasks and
exits 0 when both returned their index.  Everything ends by SIGALRM after
60 seconds.
"""

import multiprocessing
import os
import signal
import sys

STARTED_READ, STARTED_WRITE = os.pipe()
RELEASE_READ, RELEASE_WRITE = os.pipe()


def start_worker():
    """Keep only the worker's ends of the pipes, and bound its life."""
    os.close(STARTED_READ)
    os.close(RELEASE_WRITE)
    signal.alarm(60)


def wait_for_release(index):
    """Report the start, then wait for the main process's byte."""
    os.write(STARTED_WRITE, b"s")
    os.read(RELEASE_READ, 1)  # site: task_waits
    return index


def main():
    signal.alarm(60)
    context = multiprocessing.get_context("fork")
    with context.Pool(2, initializer=start_worker) as pool:
        result = pool.map_async(wait_for_release, range(2), chunksize=1)
        for _ in range(2):
            os.read(STARTED_READ, 1)
        print("ready", flush=True)
        sys.stdin.read()
        os.write(RELEASE_WRITE, b"rr")
        values = result.get(60)
    return 0 if values == [0, 1] else 1


if __name__ == "__main__":
    sys.exit(main())

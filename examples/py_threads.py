#!/usr/bin/python3
"""Run twenty threads that wait at different depths of recursion.

Thread i calls wait_in_layer() i % 4 + 1 levels deep, so every thread's
Python stack differs, then blocks reading a pipe.  The main thread prints
"ready" once all are waiting, and the program ends when its standard
input reaches end of file, or after 60 seconds.
"""

import os
import signal
import sys
import threading

THREADS = 20


def wait_in_layer(depth, read_end, started):
    """Recurse depth levels, then block until the pipe has a byte or EOF."""
    if depth > 1:
        return wait_in_layer(depth - 1, read_end, started)
    started.release()
    return os.read(read_end, 1)  # site: wait_in_layer


def main():
    signal.alarm(60)
    read_end, write_end = os.pipe()
    started = threading.Semaphore(0)
    threads = [threading.Thread(target=wait_in_layer,
                                args=(index % 4 + 1, read_end, started),
                                name=f"waiter-{index}")
               for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for _ in threads:
        started.acquire()
    print("ready", flush=True)
    sys.stdin.read()  # site: main_waits
    os.close(write_end)
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A logging handler with a lock of its own deadlocks a forked child.

The logging module resets its own locks in a child after fork(), the
handler's lock among them, but not a lock that a handler keeps for
itself.  A background thread logs a slow record and holds that lock
while main forks; the child then logs, and waits for the lock forever.

Usage: py_logging_fork.py [SECONDS]: both processes end by SIGALRM after
SECONDS (30 by default).
"""

import logging
import os
import signal
import sys
import threading


class SlowHandler(logging.StreamHandler):
    """Writes each record under a lock of its own; a slow one waits."""

    def __init__(self, holding, finish):
        super().__init__(sys.stdout)
        self.write_lock = threading.Lock()
        self.holding = holding
        self.finish = finish

    def emit(self, record):
        with self.write_lock:  # site: emit_lock
            super().emit(record)
            if record.getMessage() == "slow":
                self.holding.set()
                self.finish.wait()


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    signal.alarm(seconds)
    holding, finish = threading.Event(), threading.Event()
    log = logging.getLogger("example")
    log.addHandler(SlowHandler(holding, finish))
    log.setLevel(logging.INFO)

    background = threading.Thread(target=log.info, args=("slow",))
    background.start()
    holding.wait()
    pid = os.fork()
    if pid == 0:
        signal.alarm(seconds)
        log.info("hello from the child")  # never gets the write lock
        os._exit(0)
    finish.set()
    background.join()
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()

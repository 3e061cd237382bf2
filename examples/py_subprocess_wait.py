#!/usr/bin/python3
"""subprocess with stdout=PIPE, waited for before its output is read.

The child writes more than a pipe can take, and blocks.  The parent
blocks in wait() and never reads.  The subprocess documentation warns of
this deadlock, which communicate() avoids.

Usage: py_subprocess_wait.py [SECONDS]: the parent ends by SIGALRM after
SECONDS (30 by default), and the child then by SIGPIPE.
"""

import signal
import subprocess
import sys


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    signal.alarm(seconds)
    child = subprocess.Popen(["head", "-c", "1000000", "/dev/zero"],
                             stdout=subprocess.PIPE)
    child.wait()
    print(len(child.stdout.read()))


if __name__ == "__main__":
    main()

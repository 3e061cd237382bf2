/*
 * A busy worker: it spins in spin() until a signal ends it, or its
 * alarm after 60 seconds.
 *
 * usage: busy [FD]
 *
 * With FD, it writes one byte to that descriptor once it is in spin(),
 * so that a test can wait for the spinning to start.
 */
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned long counter;

static void __attribute__((noinline)) spin(int ready_fd)
{
	if (ready_fd >= 0 && write(ready_fd, "", 1) == 1)
		close(ready_fd);
	for (;;)
		counter++;
}

int
main(int argc, char **argv)
{
	alarm(60);
	spin(argc > 1 ? atoi(argv[1]) : -1);
	return 0;
}

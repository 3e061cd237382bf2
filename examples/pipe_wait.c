/*
 * A parent that waits for its child before it reads the child's output.
 * The child writes more than a pipe holds, so it blocks on the full pipe,
 * which only the parent could empty, while the parent blocks in
 * waitpid(): a wait cycle.
 *
 * Usage: pipe_wait [SECONDS]
 * Both end by SIGALRM after SECONDS (30 by default).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "pipe_wait"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Writes size bytes to fd, all of them. */
static void
write_all(int fd, size_t size)
{
	static char block[4096];

	memset(block, 'x', sizeof(block));
	while (size) {
		size_t chunk = size < sizeof(block) ? size : sizeof(block);
		ssize_t n = write(fd, block, chunk); /* site: child writes */

		if (n < 0)
			die("write");
		size -= (size_t)n;
	}
}

int
main(int argc, char **argv)
{
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 30;
	int out[2], status;
	char buffer[4096];
	size_t total = 0;
	ssize_t n;
	pid_t child;

	alarm(seconds);
	if (pipe(out) < 0)
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		alarm(seconds);
		close(out[0]);
		write_all(out[1], 1 << 20); /* 1 MiB: far more than a pipe */
		_exit(0);
	}
	close(out[1]);
	/* The mistake: waiting before reading. */
	if (waitpid(child, &status, 0) < 0) /* site: parent waits */
		die("waitpid");
	while ((n = read(out[0], buffer, sizeof(buffer))) > 0)
		total += (size_t)n;
	printf("read %zu bytes\n", total);
	return 0;
}

/*
 * A parent that reads its child's pipe until end of file but never closes
 * its own copy of the write end.  The child writes its line and exits;
 * the read then waits for a writer that only the parent itself is.
 *
 * Usage: pipe_eof [SECONDS]
 * The parent ends by SIGALRM after SECONDS (30 by default).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "pipe_eof: %s: %s\n", what, strerror(errno));
	exit(1);
}

int
main(int argc, char **argv)
{
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 30;
	struct timespec work = { 0, 10000000 };
	char buffer[256];
	ssize_t n;
	int out[2];
	pid_t child;

	alarm(seconds);
	if (pipe(out) < 0)
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		static const char line[] = "result from the child\n";

		close(out[0]);
		nanosleep(&work, NULL); /* the child's work, 10 ms of it */
		if (write(out[1], line, sizeof(line) - 1) < 0)
			die("write");
		_exit(0);
	}
	/* The mistake: out[1] stays open here. */
	while ((n = read(out[0], buffer, sizeof(buffer))) > 0) /* site: read */
		fwrite(buffer, 1, (size_t)n, stdout);
	return 0;
}

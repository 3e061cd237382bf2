/*
 * A parent forks many short-lived children in a row, as a build system or
 * a shell loop does, and reaps them while it goes on forking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG	      "fork_many"
#define DEFAULT_COUNT 2000
#define MAX_COUNT     100000

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [N]\n"
		"  N: number of children to fork, 1 to %d (default %d)\n",
		MAX_COUNT, DEFAULT_COUNT);
	exit(2);
}

/* Parses the child count from arg, or exits 2 with a usage message. */
static long
parse_count(const char *arg)
{
	char *end;
	long count;

	errno = 0;
	count = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || count < 1 ||
	    count > MAX_COUNT) {
		fprintf(stderr, PROG ": invalid N: %s\n", arg);
		usage();
	}
	return count;
}

/*
 * Reaps one child, or none if flags has WNOHANG and no child has ended.
 * Returns 1 if it reaped a child and 0 if not.  Clears *all_zero if the
 * reaped child did not exit 0.
 */
static int
reap_one(int flags, int *all_zero)
{
	int status;
	pid_t pid;

	do {
		pid = waitpid(-1, &status, flags);
	} while (pid < 0 && errno == EINTR);
	if (pid < 0)
		die("waitpid");
	if (pid == 0)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*all_zero = 0;
	return 1;
}

int
main(int argc, char **argv)
{
	long count = DEFAULT_COUNT;
	long forked = 0;
	long reaped = 0;
	int all_zero = 1;
	pid_t pid;

	alarm(20);
	if (argc > 2)
		usage();
	if (argc == 2)
		count = parse_count(argv[1]);

	while (forked < count) {
		pid = fork();
		if (pid < 0) {
			/* At the process limit: free a slot, then retry. */
			if (errno != EAGAIN || forked == reaped)
				die("fork");
			reaped += reap_one(0, &all_zero);
			continue;
		}
		if (pid == 0)
			_exit(0);
		forked++;
		while (reaped < forked && reap_one(WNOHANG, &all_zero))
			reaped++;
	}
	while (reaped < forked)
		reaped += reap_one(0, &all_zero);

	printf("forked %ld\n", forked);
	return reaped == count && all_zero ? 0 : 1;
}

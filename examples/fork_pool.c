/*
 * A stress load for the tests in tests/test_stress.c, not an example for
 * users: a parent forks N children in all and keeps at most MAX of them
 * unreaped at any moment, reaping one whenever the pool is full.  Child i
 * (from 0) exits with code 1 + i % 255.  The parent checks each child's
 * status against its index and prints a summary without pids or times,
 * so that a traced run prints exactly what an untraced one does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG		 "fork_pool"
#define DEFAULT_COUNT	 10000
#define DEFAULT_MAX_LIVE 200
#define MAX_COUNT	 100000
#define POOL_LIMIT	 4096

/* A forked child that the parent has not reaped yet. */
struct slot {
	pid_t pid; /* 0 when the slot is free */
	long index;
};

static struct slot slots[POOL_LIMIT];

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
		"usage: " PROG " [N [MAX]]\n"
		"  N: children to fork in all, 1 to %d (default %d)\n"
		"  MAX: children alive at most, 1 to %d (default %d)\n",
		MAX_COUNT, DEFAULT_COUNT, POOL_LIMIT, DEFAULT_MAX_LIVE);
	exit(2);
}

/* Parses a count from arg, from 1 to max, or exits 2 with the usage. */
static long
parse_count(const char *name, const char *arg, long max)
{
	char *end;
	long count;

	errno = 0;
	count = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || count < 1 ||
	    count > max) {
		fprintf(stderr, PROG ": invalid %s: %s\n", name, arg);
		usage();
	}
	return count;
}

static int
expected_code(long index)
{
	return 1 + (int)(index % 255);
}

/*
 * Waits for any child, frees its slot and returns 1 if it exited with the
 * code of its index, else 0.
 */
static int
reap_one(int max_live)
{
	int status, i;
	pid_t pid;

	do {
		pid = waitpid(-1, &status, 0);
	} while (pid < 0 && errno == EINTR);
	if (pid < 0)
		die("waitpid");
	for (i = 0; i < max_live; i++) {
		if (slots[i].pid == pid)
			break;
	}
	if (i == max_live) {
		fprintf(stderr, PROG ": reaped %d, which it did not fork\n",
			(int)pid);
		exit(1);
	}
	slots[i].pid = 0;
	return WIFEXITED(status) &&
	       WEXITSTATUS(status) == expected_code(slots[i].index);
}

/* Forks child index into a free slot.  The child exits at once. */
static void
fork_child(long index, int max_live)
{
	pid_t pid;
	int i;

	for (i = 0; i < max_live; i++) {
		if (slots[i].pid == 0)
			break;
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(expected_code(index));
	slots[i].pid = pid;
	slots[i].index = index;
}

int
main(int argc, char **argv)
{
	long count = DEFAULT_COUNT;
	int max_live = DEFAULT_MAX_LIVE;
	long index, right = 0;
	int live = 0, peak = 0;

	alarm(30);
	if (argc > 3)
		usage();
	if (argc > 1)
		count = parse_count("N", argv[1], MAX_COUNT);
	if (argc > 2)
		max_live = (int)parse_count("MAX", argv[2], POOL_LIMIT);

	for (index = 0; index < count; index++) {
		if (live == max_live) {
			right += reap_one(max_live);
			live--;
		}
		fork_child(index, max_live);
		live++;
		if (live > peak)
			peak = live;
	}
	while (live > 0) {
		right += reap_one(max_live);
		live--;
	}

	printf("forked %ld children, at most %d alive, %ld exited right\n",
	       count, peak, right);
	return right == count ? 0 : 1;
}

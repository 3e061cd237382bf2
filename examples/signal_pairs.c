/*
 * A stress load for the tests in tests/test_stress.c, not an example for
 * users: a parent and CHILDREN children (an odd number, so that everyone
 * has a partner) form pairs, the parent with child 1, child 2 with
 * child 3, and so on.  The pairs run at the same time, and in each the
 * two bounce SIGUSR1 back and forth ROUNDS times, each waiting for the
 * reply before it sends again.  Only one SIGUSR1 is in flight per pair,
 * so none is merged with another and every count is exact.  Each process
 * counts the signals its handler ran for, and child k exits with code k.
 * At the end the parent prints every count and exit code, without pids.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG		 "signal_pairs"
#define DEFAULT_CHILDREN 3
#define DEFAULT_ROUNDS	 1000
#define MAX_CHILDREN	 63
#define MAX_ROUNDS	 100000

/* Shared by the whole family: the parent fills pids before the start. */
struct family {
	pid_t pids[MAX_CHILDREN + 1]; /* of process k, the parent being 0 */
	long received[MAX_CHILDREN + 1];
};

static volatile sig_atomic_t received;

static void
count_signal(int sig)
{
	(void)sig;
	received++;
}

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
		"usage: " PROG " [CHILDREN [ROUNDS]]\n"
		"  CHILDREN: an odd number of children, 1 to %d (default %d)\n"
		"  ROUNDS: SIGUSR1 that each process receives, 1 to %d "
		"(default %d)\n",
		MAX_CHILDREN, DEFAULT_CHILDREN, MAX_ROUNDS, DEFAULT_ROUNDS);
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

/* Waits, with SIGUSR1 unblocked, until the handler has run count times. */
static void
wait_for_signals(long count)
{
	sigset_t unblocked;

	sigemptyset(&unblocked);
	while (received < count)
		sigsuspend(&unblocked);
}

/*
 * Plays process k's part: an even k sends first, an odd k replies.
 * Returns the number of SIGUSR1 received.
 */
static long
bounce(const struct family *family, int k, long rounds)
{
	pid_t partner = family->pids[k ^ 1];
	long round;

	for (round = 0; round < rounds; round++) {
		if (k % 2 == 1)
			wait_for_signals(round + 1);
		if (kill(partner, SIGUSR1) < 0)
			die("kill");
		if (k % 2 == 0)
			wait_for_signals(round + 1);
	}
	return received;
}

/* Waits for each child in order and returns the number that ended right. */
static int
reap_children(struct family *family, int children, long rounds)
{
	int k, status, right = 0;

	for (k = 1; k <= children; k++) {
		while (waitpid(family->pids[k], &status, 0) < 0) {
			if (errno != EINTR)
				die("waitpid");
		}
		if (WIFEXITED(status))
			printf("child %d: %ld SIGUSR1 received, exit %d\n", k,
			       family->received[k], WEXITSTATUS(status));
		else
			printf("child %d: %ld SIGUSR1 received, killed by "
			       "signal %d\n",
			       k, family->received[k], WTERMSIG(status));
		if (WIFEXITED(status) && WEXITSTATUS(status) == k &&
		    family->received[k] == rounds)
			right++;
	}
	return right;
}

int
main(int argc, char **argv)
{
	struct sigaction action = { .sa_handler = count_signal };
	int children = DEFAULT_CHILDREN, k, start[2], right;
	long rounds = DEFAULT_ROUNDS, total = 0;
	struct family *family;
	sigset_t usr1;
	char byte;
	pid_t pid;

	alarm(30);
	if (argc > 3)
		usage();
	if (argc > 1)
		children = (int)parse_count("CHILDREN", argv[1], MAX_CHILDREN);
	if (argc > 2)
		rounds = parse_count("ROUNDS", argv[2], MAX_ROUNDS);
	if (children % 2 == 0) {
		fprintf(stderr, PROG ": invalid CHILDREN: %d is even\n",
			children);
		usage();
	}

	family = mmap(NULL, sizeof(*family), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (family == MAP_FAILED)
		die("mmap");
	/* SIGUSR1 stays blocked outside sigsuspend(), in every process. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &usr1, NULL) < 0)
		die("sigprocmask");
	if (sigaction(SIGUSR1, &action, NULL) < 0)
		die("sigaction");
	/* The children start when the parent closes the write end. */
	if (pipe(start) < 0)
		die("pipe");
	fflush(stdout);

	family->pids[0] = getpid();
	for (k = 1; k <= children; k++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			alarm(30);
			close(start[1]);
			if (read(start[0], &byte, 1) != 0)
				_exit(100);
			family->received[k] = bounce(family, k, rounds);
			_exit(k);
		}
		family->pids[k] = pid;
	}
	close(start[0]);
	close(start[1]);

	family->received[0] = bounce(family, 0, rounds);
	right = reap_children(family, children, rounds);
	printf("parent: %ld SIGUSR1 received\n", family->received[0]);
	for (k = 0; k <= children; k++)
		total += family->received[k];
	printf("%d processes, %ld SIGUSR1 in all\n", children + 1, total);
	return right == children && family->received[0] == rounds ? 0 : 1;
}

/*
 * A stress load for the tests in tests/test_stress.c, not an example for
 * users: the main thread starts THREADS short-lived worker threads
 * (at most 50 alive at once) while another thread, the forker, forks
 * FORKS children one after another.  The forks are spread evenly over the
 * thread starts, so that threads start and exit around every fork.
 * Child i (from 0) exits with code 1 + i % 255.  The program prints a
 * summary without tids or times, so that a traced run prints exactly
 * what an untraced one does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG		"thread_churn"
#define DEFAULT_THREADS 500
#define DEFAULT_FORKS	50
#define MAX_THREADS	10000
#define MAX_FORKS	1000
#define MAX_LIVE	50 /* worker threads alive at once */

static sem_t fork_permits; /* one post for each fork the forker may do */
static long fork_count;

static void
die_err(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [THREADS [FORKS]]\n"
		"  THREADS: worker threads, 1 to %d (default %d)\n"
		"  FORKS: children that one thread forks, 0 to %d (default "
		"%d)\n",
		MAX_THREADS, DEFAULT_THREADS, MAX_FORKS, DEFAULT_FORKS);
	exit(2);
}

/* Parses a count from arg, from min to max, or exits 2 with the usage. */
static long
parse_count(const char *name, const char *arg, long min, long max)
{
	char *end;
	long count;

	errno = 0;
	count = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || count < min ||
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

/* Returns its own index, for the main thread to check at the join. */
static void *
worker_main(void *arg)
{
	return arg;
}

/*
 * Forks a child each time the main thread allows it, and waits for it.
 * Returns how many children exited with the code of their index.
 */
static void *
forker_main(void *arg)
{
	long index, right = 0;
	int status;
	pid_t pid;

	(void)arg;
	for (index = 0; index < fork_count; index++) {
		while (sem_wait(&fork_permits) < 0) {
			if (errno != EINTR)
				die_err("sem_wait", errno);
		}
		pid = fork();
		if (pid < 0)
			die_err("fork", errno);
		if (pid == 0)
			_exit(expected_code(index));
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR)
				die_err("waitpid", errno);
		}
		if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == expected_code(index))
			right++;
	}
	return (void *)(intptr_t)right;
}

/* Joins a worker thread and returns 1 if it returned its own index. */
static int
join_worker(pthread_t thread, long index)
{
	void *result;
	int err;

	err = pthread_join(thread, &result);
	if (err != 0)
		die_err("pthread_join", err);
	return (intptr_t)result == index;
}

int
main(int argc, char **argv)
{
	static pthread_t workers[MAX_LIVE];
	long threads = DEFAULT_THREADS, index, joined_right = 0;
	long permits = 0, target;
	pthread_t forker;
	pthread_attr_t attr;
	void *forks_right;
	int err;

	alarm(30);
	fork_count = DEFAULT_FORKS;
	if (argc > 3)
		usage();
	if (argc > 1)
		threads = parse_count("THREADS", argv[1], 1, MAX_THREADS);
	if (argc > 2)
		fork_count = parse_count("FORKS", argv[2], 0, MAX_FORKS);

	if (sem_init(&fork_permits, 0, 0) < 0)
		die_err("sem_init", errno);
	err = pthread_create(&forker, NULL, forker_main, NULL);
	if (err != 0)
		die_err("pthread_create", err);
	/* Small stacks: the workers do nothing but return. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);

	for (index = 0; index < threads; index++) {
		pthread_t *slot = &workers[index % MAX_LIVE];

		if (index >= MAX_LIVE)
			joined_right += join_worker(*slot, index - MAX_LIVE);
		err = pthread_create(slot, &attr, worker_main,
				     (void *)(intptr_t)index);
		if (err != 0)
			die_err("pthread_create", err);
		/* Allow the forks in step with the thread starts. */
		target = (index + 1) * fork_count / threads;
		for (; permits < target; permits++)
			sem_post(&fork_permits);
	}
	for (index = threads > MAX_LIVE ? threads - MAX_LIVE : 0;
	     index < threads; index++)
		joined_right += join_worker(workers[index % MAX_LIVE], index);
	err = pthread_join(forker, &forks_right);
	if (err != 0)
		die_err("pthread_join", err);
	pthread_attr_destroy(&attr);

	printf("%ld threads joined, %ld returned right; "
	       "%ld children forked, %ld exited right\n",
	       threads, joined_right, fork_count, (long)(intptr_t)forks_right);
	return joined_right == threads && (intptr_t)forks_right == fork_count
		       ? 0
		       : 1;
}

/*
 * Threads fork while the main thread calls execve().  The exec kills the
 * other threads, and a thread killed between its fork and the report of
 * that fork to a tracer leaves a child that no fork event names.  The new
 * program reaps every child it inherited and prints how many.
 *
 * Usage: exec_races_fork [THREADS]
 * Each thread forks children that exit at once, one at a time, until the
 * exec ends it.  After the exec, an alarm ends the program after 10
 * seconds if a child never ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG	    "exec_races_fork"
#define MAX_THREADS 64
/* Forks per thread at most; the exec comes long before the last. */
#define MAX_FORKS 10000
/* Forks per thread before the exec may come, so that all fork at once */
#define FORKS_BEFORE_EXEC 20

static int started[2];

static void
die(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

static void *
fork_until_exec(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < MAX_FORKS; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(1);
		if (pid < 0)
			die("fork", errno);
		if (i == FORKS_BEFORE_EXEC - 1 &&
		    write(started[1], "x", 1) != 1)
			die("write", errno);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

/* The program after the exec: reaps every child that it inherited. */
static int
reap_all(void)
{
	unsigned reaped = 0;

	alarm(10);
	for (;;) {
		if (wait(NULL) >= 0) {
			reaped++;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != ECHILD)
			die("wait", errno);
		break;
	}
	printf("reaped %u\n", reaped);
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t thread;
	int threads = 8, i, err;
	char byte;

	if (argc > 1 && !strcmp(argv[1], "--reap"))
		return reap_all();
	if (argc > 1)
		threads = atoi(argv[1]);
	if (threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, PROG ": THREADS must be from 1 to %d\n",
			MAX_THREADS);
		return 2;
	}
	if (pipe2(started, O_CLOEXEC) < 0)
		die("pipe", errno);
	for (i = 0; i < threads; i++) {
		err = pthread_create(&thread, NULL, fork_until_exec, NULL);
		if (err)
			die("pthread_create", err);
	}
	/* Exec once every thread is well into its forks, as they go on. */
	for (i = 0; i < threads; i++)
		if (read(started[0], &byte, 1) != 1)
			die("read", errno);
	execl("/proc/self/exe", PROG, "--reap", (char *)NULL);
	die("execl", errno);
}

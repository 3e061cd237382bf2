/*
 * A thread other than the thread-group leader calls fork(): the child
 * starts as a copy of that one thread only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "thread_fork"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
die_err(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

/* Forks a child that exits 0 and waits for it; returns 1 if it did so. */
static int
fork_from_thread(void)
{
	int status;
	pid_t pid;

	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork(); /* site: fork_from_thread */
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(0);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Thread body: names itself "forker" before it forks. */
static void *
forker_main(void *arg)
{
	int err;

	(void)arg;
	err = pthread_setname_np(pthread_self(), "forker");
	if (err != 0)
		die_err("pthread_setname_np", err);
	return (void *)(intptr_t)fork_from_thread();
}

int
main(void)
{
	pthread_t thread;
	void *result;
	int err;

	alarm(20);
	err = pthread_create(&thread, NULL, forker_main, NULL);
	if (err != 0)
		die_err("pthread_create", err);
	err = pthread_join(thread, &result);
	if (err != 0)
		die_err("pthread_join", err);
	return (intptr_t)result ? 0 : 1;
}

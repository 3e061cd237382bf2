/*
 * A thread that is not the thread-group leader calls execve(): the kernel
 * ends every other thread, including the leader, and the new program runs
 * under the process's original pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "thread_exec"

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

/* Thread body: replaces the whole process with a fresh copy of this program. */
static void *
exec_from_thread(void *arg)
{
	char *const exec_argv[] = { "thread_exec", "--after-exec", NULL };

	(void)arg;
	execv("/proc/self/exe", exec_argv); /* site: thread_exec */
	die("execv /proc/self/exe");
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t thread;
	int err;

	alarm(20);
	if (argc == 2 && strcmp(argv[1], "--after-exec") == 0) {
		printf("after exec pid %d\n", (int)getpid());
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: " PROG "\n");
		return 2;
	}
	err = pthread_create(&thread, NULL, exec_from_thread, NULL);
	if (err != 0)
		die_err("pthread_create", err);
	/* The exec in the other thread ends this thread while it waits here. */
	err = pthread_join(thread, NULL);
	if (err != 0)
		die_err("pthread_join", err);
	return 1;
}

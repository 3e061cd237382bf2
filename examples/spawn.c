/*
 * A program starts a thread with pthread_create() and a child with
 * posix_spawn().  glibc 2.36 makes both with clone3, whose unwind
 * information ends before the system call, so a tracer's stack of the
 * caller must step over that wrapper to reach these functions.
 */
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRUE "/bin/true"

extern char **environ;

static void
die_err(const char *what, int err)
{
	fprintf(stderr, "spawn: %s: %s\n", what, strerror(err));
	exit(1);
}

static void *
worker_main(void *arg)
{
	return arg;
}

/* Starts one thread and waits for it. */
static void
start_worker(void)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, 0, worker_main, 0); /* site: start_worker */
	if (err != 0)
		die_err("pthread_create", err);
	err = pthread_join(t, NULL);
	if (err != 0)
		die_err("pthread_join", err);
}

/* Runs /bin/true with posix_spawn() and returns its wait status. */
static int
spawn_true(void)
{
	char *argv[] = { "true", NULL };
	char **env = environ;
	pid_t pid;
	int err, status;

	err = posix_spawn(&pid, TRUE, 0, 0, argv, env); /* site: spawn_true */
	if (err != 0)
		die_err("posix_spawn", err);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_err("waitpid", errno);
	return status;
}

int
main(void)
{
	int status;

	alarm(20);
	start_worker();
	status = spawn_true();
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/*
 * A parent starts three worker processes and one worker starts a child of
 * its own, so the family is three levels deep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG	   "fork_tree"
#define NR_WORKERS 3

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Waits for pid and returns its exit code, or -1 if a signal killed it. */
static int
wait_exit_code(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Forks the grandchild, which prints its pid and exits 20. */
static pid_t
spawn_grandchild(void)
{
	pid_t pid;

	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork(); /* site: spawn_grandchild */
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		printf("grandchild pid %d\n", (int)getpid());
		if (fflush(stdout) == EOF)
			die("fflush");
		_exit(20);
	}
	return pid;
}

/* Runs in worker 1: starts the grandchild and returns worker 1's exit code. */
static int
run_worker_one(void)
{
	pid_t pid = spawn_grandchild();

	return wait_exit_code(pid) == 20 ? 11 : 1;
}

/* Forks worker index, which prints its pid and exits 10 + index. */
static pid_t
spawn_worker(int index)
{
	int code = 10 + index;
	pid_t pid;

	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork(); /* site: spawn_worker */
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		printf("worker %d pid %d\n", index, (int)getpid());
		if (fflush(stdout) == EOF)
			die("fflush");
		if (index == 1)
			code = run_worker_one();
		_exit(code);
	}
	return pid;
}

int
main(void)
{
	pid_t workers[NR_WORKERS];
	int ok = 1;
	int i;

	alarm(20);
	for (i = 0; i < NR_WORKERS; i++)
		workers[i] = spawn_worker(i);
	for (i = 0; i < NR_WORKERS; i++) {
		if (wait_exit_code(workers[i]) != 10 + i)
			ok = 0;
	}
	printf("all workers done\n");
	return ok ? 0 : 1;
}

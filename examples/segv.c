/*
 * A child process dies from a segmentation fault (a store through a NULL
 * pointer) and its parent observes the fatal signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "segv"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Stores through p; noinline keeps this frame visible in a backtrace. */
static __attribute__((noinline)) void
crash_here(volatile int *p)
{
	*p = 1; /* site: crash_here */
}

int
main(void)
{
	struct rlimit no_core = { 0, 0 };
	int status;
	pid_t pid;

	alarm(20);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (setrlimit(RLIMIT_CORE, &no_core) < 0)
			die("setrlimit RLIMIT_CORE");
		crash_here(NULL);
		_exit(1);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		printf("child killed by signal %d\n", SIGSEGV);
		return 0;
	}
	return 1;
}

/*
 * A parent starts a program the way posix_spawn and many shells do: vfork()
 * followed at once by execve() in the child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "vfork_exec"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

int
main(void)
{
	char *const child_argv[] = { "sh", "-c", "exit 3", NULL };
	int status;
	pid_t pid;

	alarm(20);
	/* The child shares our memory until execv, so it only calls execv. */
	pid = vfork(); /* site: vfork */
	if (pid < 0)
		die("vfork");
	if (pid == 0) {
		execv("/bin/sh", child_argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		return 0;
	return 1;
}

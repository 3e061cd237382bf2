/*
 * A benchmark workload: forks and execs a program N times, one at a time,
 * as a test runner or a build tool does.
 *
 * usage: fork_exec N PROG [ARGS...]
 *
 * Exits 0 when every run of PROG exited 0, and 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long count, i;
	int status, failed = 0;
	char *end;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: fork_exec N PROG [ARGS...]\n");
		return 2;
	}
	count = strtol(argv[1], &end, 10);
	if (*end || count < 1 || count > 100000) {
		fprintf(stderr, "fork_exec: invalid N: %s\n", argv[1]);
		return 2;
	}
	alarm(300);
	for (i = 0; i < count; i++) {
		pid = fork();
		if (pid < 0) {
			perror("fork_exec: fork");
			return 1;
		}
		if (pid == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				perror("fork_exec: waitpid");
				return 1;
			}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed;
}

/*
 * Starting a program seized with ptrace, for the bench's own tracers.
 * Each includes this file once and defines PROG_NAME first.
 */
#ifndef FORKTRACE_BENCH_LAUNCH_H
#define FORKTRACE_BENCH_LAUNCH_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, PROG_NAME ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Forks argv[0], held on a pipe until it is seized with options, then
 * lets it exec.  Returns its pid.
 */
static pid_t
launch_seized(char **argv, long options)
{
	int ready[2];
	pid_t pid;
	char go;

	if (pipe2(ready, O_CLOEXEC) < 0)
		die("pipe2");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ready[1]);
		if (read(ready[0], &go, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, PROG_NAME ": cannot run '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(ready[0]);
	if (ptrace(PTRACE_SEIZE, pid, 0L, options) < 0)
		die("PTRACE_SEIZE");
	if (write(ready[1], "", 1) != 1)
		die("write");
	close(ready[1]);
	return pid;
}

#endif

/*
 * Measures the peak resident set of one process, without its children.
 *
 * usage: peak OUTFILE PROG [ARGS...]
 *
 * The kernel's ru_maxrss for a waited-for process counts its reaped
 * descendants too, so a tracer that reaps a compiler would be charged for
 * the compiler.  peak instead seizes PROG with only the exit option and,
 * at its exit event stop, before its memory is gone, reads VmHWM from
 * /proc/PID/status and writes it to OUTFILE, in KiB.  PROG's own tracing
 * of its children is not disturbed: a tracee may trace others.  Exits with
 * PROG's status (128 + N for a signal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG_NAME "peak"
#include "launch.h"

/* Returns VmHWM of pid in KiB, or -1 when it cannot be read. */
static long
read_hwm(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

int
main(int argc, char **argv)
{
	long hwm = -1;
	int status, sig;
	FILE *out;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: peak OUTFILE PROG [ARGS...]\n");
		return 2;
	}
	pid = launch_seized(argv + 2, PTRACE_O_TRACEEXIT);
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid");
		}
		if (!WIFSTOPPED(status))
			break;
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_EXIT) {
			/* The memory is still mapped at this stop. */
			hwm = read_hwm(pid);
			ptrace(PTRACE_CONT, pid, 0L, 0L);
		} else if (status >> 16 == PTRACE_EVENT_STOP) {
			if (sig == SIGSTOP || sig == SIGTSTP ||
			    sig == SIGTTIN || sig == SIGTTOU)
				ptrace(PTRACE_LISTEN, pid, 0L, 0L);
			else
				ptrace(PTRACE_CONT, pid, 0L, 0L);
		} else {
			ptrace(PTRACE_CONT, pid, 0L, (long)sig);
		}
	}

	out = fopen(argv[1], "w");
	if (!out)
		die(argv[1]);
	fprintf(out, "%ld\n", hwm);
	fclose(out);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * The cheapest tracer that follows a family the way forktrace does: the
 * benchmarks' floor.
 *
 * usage: floor PROG [ARGS...]
 *
 * It seizes PROG with the fork, vfork, clone, exec and exit options, so
 * the kernel stops each member at the same events as under forktrace.  It
 * reads each new child's pid, passes every signal on, and keeps group
 * stops with PTRACE_LISTEN.  It prints nothing and exits with PROG's
 * status (128 + N for a signal), so any cost above it is what a tracer
 * adds to the bare ptrace stops.
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

#define PROG_NAME "floor"
#include "launch.h"

#define OPTIONS                                                           \
	(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT)

static int
is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* Resumes a thread from the stop that status describes. */
static void
resume(pid_t tid, int status)
{
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	unsigned long child;

	if (event == PTRACE_EVENT_STOP) {
		/* A group stop stays one; a new child's first stop does not. */
		if (is_stop_signal(sig))
			ptrace(PTRACE_LISTEN, tid, 0L, 0L);
		else
			ptrace(PTRACE_CONT, tid, 0L, 0L);
		return;
	}
	if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
	    event == PTRACE_EVENT_CLONE)
		ptrace(PTRACE_GETEVENTMSG, tid, 0L, &child);
	/* A signal-delivery stop passes its signal on; an event stop none. */
	ptrace(PTRACE_CONT, tid, 0L, event ? 0L : (long)sig);
}

int
main(int argc, char **argv)
{
	int status, code = 0;
	pid_t root, tid;

	if (argc < 2) {
		fprintf(stderr, "usage: floor PROG [ARGS...]\n");
		return 2;
	}
	root = launch_seized(argv + 1, OPTIONS);
	for (;;) {
		tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			die("waitpid");
		}
		if (WIFSTOPPED(status))
			resume(tid, status);
		else if (tid == root && WIFEXITED(status))
			code = WEXITSTATUS(status);
		else if (tid == root && WIFSIGNALED(status))
			code = 128 + WTERMSIG(status);
	}
	return code;
}

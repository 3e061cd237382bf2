/* Starting PROG: fork, seize the child, then let it exec. */
#ifndef FORKTRACE_LAUNCH_H
#define FORKTRACE_LAUNCH_H

#include <signal.h>
#include <sys/types.h>

struct launch {
	pid_t pid;
	/*
	 * Read end of a close-on-exec pipe: EOF once the exec succeeded, or
	 * the child's errno when it failed.
	 */
	int error_fd;
};

/*
 * Forks a child that waits until it is seized with ptrace_options, then
 * restores child_mask as its signal mask and execs command[0], found on
 * PATH as execvp() finds it.  Returns 0, or -1 after printing why the child
 * could not be traced; no child is left behind then.
 */
int launch_command(char **command, unsigned long ptrace_options,
		   const sigset_t *child_mask, struct launch *launch);

/*
 * Reads the child's exec errno from launch->error_fd, which is closed.
 * Returns the errno, or 0 when the exec succeeded.
 */
int launch_exec_error(struct launch *launch);

#endif

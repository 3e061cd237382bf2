/* Starting the traced program. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/launch.h"
#include "forktrace/seize.h"

/* Runs in the child: waits for the tracer's word, then execs. */
static void
run_child(char **command, const sigset_t *child_mask, int go_fd, int error_fd)
{
	char go;
	int err;

	if (read(go_fd, &go, 1) != 1)
		_exit(127); /* the tracer gave up on us */
	close(go_fd);

	sigprocmask(SIG_SETMASK, child_mask, NULL);
	execvp(command[0], command);

	err = errno;
	if (write(error_fd, &err, sizeof(err)) < 0) {
		/* The tracer reports a failed exec from the exit code alone. */
	}
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

int
launch_command(char **command, unsigned long ptrace_options,
	       const sigset_t *child_mask, struct launch *launch)
{
	int go_pipe[2], error_pipe[2];
	char why[256];
	pid_t pid;

	if (pipe2(go_pipe, O_CLOEXEC) < 0 || pipe2(error_pipe, O_CLOEXEC) < 0)
		perror_msg_and_die("cannot create a pipe");

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		perror_msg_and_die("cannot fork to run '%s'", command[0]);
	if (pid == 0) {
		close(go_pipe[1]);
		close(error_pipe[0]);
		run_child(command, child_mask, go_pipe[0], error_pipe[1]);
	}
	close(go_pipe[0]);
	close(error_pipe[1]);

	if (seize_thread(pid, ptrace_options, why, sizeof(why)) < 0) {
		error_msg("cannot trace '%s' (pid %d): %s", command[0],
			  (int)pid, why);
		kill(pid, SIGKILL);
		close(go_pipe[1]);
		close(error_pipe[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}

	if (write(go_pipe[1], "", 1) != 1)
		perror_msg_and_die("cannot start '%s'", command[0]);
	close(go_pipe[1]);

	launch->pid = pid;
	launch->error_fd = error_pipe[0];
	return 0;
}

int
launch_exec_error(struct launch *launch)
{
	int err = 0;
	ssize_t n;

	if (launch->error_fd < 0)
		return 0;
	do
		n = read(launch->error_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(launch->error_fd);
	launch->error_fd = -1;
	return n == (ssize_t)sizeof(err) ? err : 0;
}

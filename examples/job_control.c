/*
 * A child stops itself with SIGSTOP.  Its parent's waitpid() reports the
 * job-control stop, then, after the parent sends SIGCONT, the continue and
 * finally the exit, as a shell observes a job that is suspended and resumed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "job_control"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Waits for a state change of pid selected by options. */
static int
wait_status(pid_t pid, int options)
{
	int status;

	while (waitpid(pid, &status, options) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	return status;
}

/* Kills and reaps the child after an unexpected state, then exits 1. */
static void
fail(pid_t pid)
{
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		die("kill SIGKILL");
	while (waitpid(pid, NULL, 0) < 0) {
		if (errno == ECHILD)
			break;
		if (errno != EINTR)
			die("waitpid");
	}
	exit(1);
}

/* Child: stops itself, then exits 4 once the parent closes the pipe. */
static void
run_child(int release_fd)
{
	char byte;
	ssize_t n;

	alarm(20);
	if (raise(SIGSTOP) != 0)
		die("raise SIGSTOP");
	do {
		n = read(release_fd, &byte, 1);
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		die("read");
	_exit(4);
}

int
main(void)
{
	int release_fds[2];
	int status;
	pid_t pid;

	alarm(20);
	/*
	 * The child exits only after the parent has seen it continue: a
	 * child that is already a zombie is reported as exited, and the
	 * continued state would be lost.
	 */
	if (pipe(release_fds) < 0)
		die("pipe");
	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (close(release_fds[1]) < 0)
			die("close");
		run_child(release_fds[0]);
	}
	if (close(release_fds[0]) < 0)
		die("close");

	status = wait_status(pid, WUNTRACED);
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
		fail(pid);
	printf("stopped\n");

	if (kill(pid, SIGCONT) < 0)
		die("kill SIGCONT");
	status = wait_status(pid, WCONTINUED);
	if (!WIFCONTINUED(status))
		fail(pid);
	printf("continued\n");

	if (close(release_fds[1]) < 0)
		die("close");
	status = wait_status(pid, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 4)
		return 1;
	printf("exited 4\n");
	return 0;
}

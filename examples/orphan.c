/*
 * A child exits while its own child (the grandchild) is still running, so
 * the kernel reparents the orphaned grandchild to init or to the nearest
 * child subreaper, as happens when a daemon double-forks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG		      "orphan"
#define REPARENT_WAIT_SECONDS 10

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads fd until EOF, dropping any data. */
static void
read_until_eof(int fd)
{
	char buf[64];
	ssize_t n;

	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		die("read");
}

static double
monotonic_seconds(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		die("clock_gettime");
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/*
 * Grandchild: waits until the child has exited, then checks that its parent
 * is no longer the child.  Returns the grandchild's exit code.
 */
static int
run_grandchild(pid_t child_pid, int child_gone_fd)
{
	double deadline;

	alarm(20);
	read_until_eof(child_gone_fd);
	/*
	 * An exiting process closes its files before the kernel reparents its
	 * children, so EOF can arrive a moment before getppid() changes.
	 */
	deadline = monotonic_seconds() + REPARENT_WAIT_SECONDS;
	while (getppid() == child_pid) {
		if (monotonic_seconds() > deadline)
			return 9;
		sched_yield();
	}
	printf("orphan reparented\n");
	if (fflush(stdout) == EOF)
		die("fflush");
	return 0;
}

/*
 * Child: forks the grandchild and exits 0 at once.  grandchild_done_fds is
 * the pipe through which the parent waits for the grandchild.
 */
static void
run_child(int *grandchild_done_fds)
{
	pid_t child_pid = getpid();
	int child_gone_fds[2];
	pid_t pid;

	alarm(20);
	if (pipe(child_gone_fds) < 0)
		die("pipe");
	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (close(child_gone_fds[1]) < 0 ||
		    close(grandchild_done_fds[0]) < 0)
			die("close");
		/* The grandchild keeps grandchild_done_fds[1] until it ends. */
		_exit(run_grandchild(child_pid, child_gone_fds[0]));
	}
	/* Exiting closes child_gone_fds[1], the only write end. */
	_exit(0);
}

int
main(void)
{
	int grandchild_done_fds[2];
	int status;
	pid_t pid;

	alarm(20);
	if (pipe(grandchild_done_fds) < 0)
		die("pipe");
	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		run_child(grandchild_done_fds);
	if (close(grandchild_done_fds[1]) < 0)
		die("close");
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	/* EOF comes when the grandchild, the last write end holder, ends. */
	read_until_eof(grandchild_done_fds[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	return 0;
}

/*
 * A family of three generations that waits to be ended: the parent, two
 * children and one grandchild under each child, every one of them with a
 * second thread.  Every thread reads the FIFO named by the first argument
 * until EOF, so the family ends when the FIFO's last writer closes it.
 *
 * Grandchild i exits 30 + i.  Child i exits 20 + i once its grandchild
 * exited 30 + i, and 1 otherwise.  The parent reports, without pids, what
 * its waitpid() returns for its children: "ready" once every member runs its
 * second thread, each stop and continue as it happens, and how each child
 * ended, in the children's order, at the end.  It exits 0 when each child
 * exited 20 + i, and 1 otherwise.  The report goes to stdout, or to the
 * file given as the second argument (a FIFO that a test reads while the
 * family runs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG	    "waiting_family"
#define NR_CHILDREN 2
/* Seconds after which every member ends anyway. */
#define TIME_LIMIT 60

static const char *fifo_path;
static int ready_fd = -1; /* write end: one byte from each second thread */

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Opens the FIFO for reading.  Each thread opens it before the family
 * reports ready, since an open that comes after the last writer closed it
 * would wait for a new writer.
 */
static int
open_fifo(void)
{
	int fd;

	do
		fd = open(fifo_path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("open the FIFO");
	return fd;
}

/* Blocks until the FIFO that fd reads has no writer left. */
static void
wait_for_eof(int fd)
{
	char buf[64];
	ssize_t n;

	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		die("read the FIFO");
	close(fd);
}

/*
 * Runs the second thread.  Its byte on the ready pipe shows that it has
 * run, so a tracer has let it go from its first stop.
 */
static void *
thread_main(void *arg)
{
	if (write(ready_fd, "", 1) != 1)
		die("write the ready pipe");
	wait_for_eof((int)(intptr_t)arg);
	return NULL;
}

/* Starts the second thread of the calling member. */
static pthread_t
start_thread(void)
{
	void *fd = (void *)(intptr_t)open_fifo();
	pthread_t thread;
	int err = pthread_create(&thread, NULL, thread_main, fd);

	if (err != 0) {
		errno = err;
		die("pthread_create");
	}
	return thread;
}

/* Waits for pid and returns its exit code, or -1 if a signal killed it. */
static int
wait_exit_code(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
run_grandchild(int i)
{
	pthread_t thread;
	int fd;

	alarm(TIME_LIMIT);
	fd = open_fifo();
	thread = start_thread();
	wait_for_eof(fd);
	pthread_join(thread, NULL);
	_exit(30 + i);
}

static void
run_child(int i)
{
	pthread_t thread;
	pid_t grandchild;
	int fd;

	alarm(TIME_LIMIT);
	fd = open_fifo();
	thread = start_thread();
	grandchild = fork();
	if (grandchild < 0)
		die("fork");
	if (grandchild == 0) {
		close(fd);
		run_grandchild(i);
	}
	wait_for_eof(fd);
	pthread_join(thread, NULL);
	_exit(wait_exit_code(grandchild) == 30 + i ? 20 + i : 1);
}

/* Returns the index (from 1) of the child with this pid, or 0. */
static int
child_index(const pid_t *children, pid_t pid)
{
	int i;

	for (i = 0; i < NR_CHILDREN; i++)
		if (children[i] == pid)
			return i + 1;
	return 0;
}

/*
 * Reports each stop and continue of the children as waitpid() returns them,
 * until every child has ended.  Fills ends with their wait statuses.
 */
static void
watch_children(const pid_t *children, int *ends)
{
	int left = NR_CHILDREN;

	while (left) {
		int status, i;
		pid_t pid = waitpid(-1, &status, WUNTRACED | WCONTINUED);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid");
		}
		i = child_index(children, pid);
		if (!i)
			continue;
		if (WIFSTOPPED(status)) {
			printf("child %d stopped by SIG%s\n", i,
			       sigabbrev_np(WSTOPSIG(status)));
		} else if (WIFCONTINUED(status)) {
			printf("child %d continued\n", i);
		} else {
			ends[i - 1] = status;
			left--;
		}
		if (fflush(stdout) == EOF)
			die("fflush");
	}
}

int
main(int argc, char **argv)
{
	pid_t children[NR_CHILDREN];
	int ends[NR_CHILDREN];
	int ready_pipe[2];
	pthread_t thread;
	char byte;
	int i, wrong = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: " PROG " FIFO [REPORT]\n");
		return 2;
	}
	fifo_path = argv[1];
	alarm(TIME_LIMIT);
	if (argc == 3 && !freopen(argv[2], "w", stdout))
		die("open the report");
	if (pipe2(ready_pipe, O_CLOEXEC) < 0)
		die("pipe");
	ready_fd = ready_pipe[1];
	thread = start_thread();
	if (fflush(stdout) == EOF)
		die("fflush");
	for (i = 0; i < NR_CHILDREN; i++) {
		children[i] = fork();
		if (children[i] < 0)
			die("fork");
		if (children[i] == 0)
			run_child(i + 1);
	}
	/* One byte from the second thread of each of the five members. */
	for (i = 0; i < 1 + 2 * NR_CHILDREN; i++)
		if (read(ready_pipe[0], &byte, 1) != 1)
			die("wait for the family to be ready");
	close(ready_pipe[0]);
	printf("ready\n");
	if (fflush(stdout) == EOF)
		die("fflush");

	watch_children(children, ends);
	for (i = 0; i < NR_CHILDREN; i++) {
		if (WIFEXITED(ends[i])) {
			printf("child %d: exit %d\n", i + 1,
			       WEXITSTATUS(ends[i]));
		} else {
			printf("child %d: killed by SIG%s\n", i + 1,
			       sigabbrev_np(WTERMSIG(ends[i])));
		}
		if (!WIFEXITED(ends[i]) || WEXITSTATUS(ends[i]) != 21 + i)
			wrong++;
	}
	pthread_join(thread, NULL);
	return wrong ? 1 : 0;
}

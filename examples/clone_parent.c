/*
 * A process creates a sibling with clone(CLONE_PARENT), so the new process
 * is a child of the caller's parent, and then a child of its own with the
 * raw clone3 system call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG	   "clone_parent"
#define STACK_SIZE (64 * 1024)

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Body of the CLONE_PARENT sibling: arg points to the pipe.  The sibling
 * closes its copy of the write end and reads until EOF, which comes only
 * once the caller, the last holder of the write end, has exited.
 */
static int
sibling_main(void *arg)
{
	int *pipe_fds = arg;
	char byte;
	ssize_t n;

	alarm(20);
	if (close(pipe_fds[1]) < 0)
		die("sibling: close");
	do {
		n = read(pipe_fds[0], &byte, 1);
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		die("sibling: read");
	return 5;
}

/* Creates the sibling with glibc clone() on a malloc'd stack. */
static void
spawn_sibling(int *fds)
{
	int flags = CLONE_PARENT | SIGCHLD;
	char *stack = malloc(STACK_SIZE);
	char *top;
	pid_t pid;

	if (stack == NULL)
		die("malloc");
	/* The stack grows down on x86 and arm, so clone() takes its top. */
	top = stack + STACK_SIZE;
	pid = clone(sibling_main, top, flags, fds); /* site: clone_parent */
	if (pid < 0)
		die("clone CLONE_PARENT");
	/* The sibling has its own copy of memory, so the caller may free it. */
	free(stack);
}

/* Creates a child with clone3 (fork semantics) that exits 6. */
static pid_t
spawn_clone3_child(void)
{
	struct clone_args args;
	long ret;

	memset(&args, 0, sizeof(args));
	args.flags = 0;
	args.exit_signal = SIGCHLD;
	ret = syscall(SYS_clone3, &args, sizeof(args)); /* site: clone3 */
	if (ret < 0)
		die("clone3");
	if (ret == 0)
		_exit(6);
	return (pid_t)ret;
}

int
main(void)
{
	int pipe_fds[2];
	int status;
	pid_t pid;

	alarm(20);
	if (pipe(pipe_fds) < 0)
		die("pipe");
	if (fflush(stdout) == EOF)
		die("fflush");
	spawn_sibling(pipe_fds);
	pid = spawn_clone3_child();
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	/* pipe_fds[1] stays open until exit, which releases the sibling. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 6)
		return 0;
	return 1;
}

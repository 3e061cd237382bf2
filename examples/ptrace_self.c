/*
 * A process calls ptrace() itself, as a debugger or an anti-debugging check
 * does: the child requests tracing by its parent (PTRACE_TRACEME) and then
 * tries to attach to that parent.  Under another tracer both calls fail with
 * EPERM, because a process can have only one tracer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "ptrace_self"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Stores "ok" or the error text for a ptrace() result in buf. */
static void
format_result(char *buf, size_t size, long ret, int err)
{
	if (ret == 0)
		snprintf(buf, size, "ok");
	else
		snprintf(buf, size, "%s", strerror(err));
}

/* Waits until the attached parent enters its attach stop, then detaches. */
static void
detach_from_parent(pid_t ppid)
{
	int status;

	for (;;) {
		if (waitpid(ppid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid parent");
		}
		if (WIFSTOPPED(status))
			break;
	}
	if (ptrace(PTRACE_DETACH, ppid, NULL, NULL) < 0)
		die("ptrace PTRACE_DETACH");
}

/* Child: tries both requests, prints their results and exits 0. */
static void
run_child(void)
{
	char traceme_text[128];
	char attach_text[128];
	int traceme_err, attach_err;
	long traceme_ret, attach_ret;
	sigset_t set;
	pid_t ppid;

	alarm(20);
	/*
	 * When TRACEME succeeds the parent is this child's tracer, so any
	 * signal delivered here would stop the child until the parent acts.
	 * The parent's attach stop sends SIGCHLD to this child (its tracer)
	 * while the parent itself is stopped, so SIGCHLD stays blocked.
	 */
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGCHLD) < 0)
		die("sigaddset");
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");

	errno = 0;
	traceme_ret = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	traceme_err = errno;

	ppid = getppid();
	errno = 0;
	attach_ret = ptrace(PTRACE_ATTACH, ppid, NULL, NULL);
	attach_err = errno;
	if (attach_ret == 0)
		detach_from_parent(ppid);

	format_result(traceme_text, sizeof(traceme_text), traceme_ret,
		      traceme_err);
	format_result(attach_text, sizeof(attach_text), attach_ret, attach_err);
	printf("traceme: %s\n", traceme_text);
	printf("attach: %s\n", attach_text);
	if (fflush(stdout) == EOF)
		die("fflush");
	_exit(0);
}

int
main(void)
{
	int status;
	pid_t pid;

	alarm(20);
	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		run_child();
	for (;;) {
		if (waitpid(pid, &status, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid");
		}
		if (!WIFSTOPPED(status))
			break;
		/* After TRACEME this parent is the tracer: pass signals on. */
		if (ptrace(PTRACE_CONT, pid, NULL,
			   (void *)(long)WSTOPSIG(status)) < 0)
			die("ptrace PTRACE_CONT");
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 1;
}

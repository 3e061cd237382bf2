/*
 * Forks two children that get the same pid, one after the other.  The
 * first child exits 3 and is reaped.  The parent then writes that pid
 * minus one to /proc/sys/kernel/ns_last_pid, so the kernel gives the next
 * child the same pid, and that child exits 4.  Writing ns_last_pid needs
 * CAP_SYS_ADMIN, and the reuse is certain only where nothing else forks
 * meanwhile, so run it as root in a pid namespace of its own, as under
 * "unshare --pid --fork --mount-proc".  It prints what it saw, without
 * pids, and exits 0 when both children had the same pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "pid_reuse"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Forks a child that exits with code, reaps it and returns its pid. */
static pid_t
run_child(int code)
{
	int status;
	pid_t pid;

	if (fflush(stdout) == EOF)
		die("fflush");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(code);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFEXITED(status))
		printf("child exited %d\n", WEXITSTATUS(status));
	else
		printf("child killed by signal %d\n", WTERMSIG(status));
	return pid;
}

/* Makes the next pid that the kernel hands out in this namespace pid. */
static void
set_next_pid(pid_t pid)
{
	FILE *fp = fopen("/proc/sys/kernel/ns_last_pid", "we");

	if (!fp)
		die("open /proc/sys/kernel/ns_last_pid");
	fprintf(fp, "%d", (int)pid - 1);
	if (fclose(fp) == EOF)
		die("write /proc/sys/kernel/ns_last_pid");
}

int
main(void)
{
	pid_t first, second;

	alarm(20);
	first = run_child(3);
	set_next_pid(first);
	second = run_child(4);
	printf("same pid: %s\n", first == second ? "yes" : "no");
	return first == second ? 0 : 1;
}

/*
 * The watcher of a forktrace that stopped with its program.  A shell
 * continues the whole job with SIGCONT, forktrace included, but a process
 * that continues the program alone leaves it in a ptrace stop that only a
 * running forktrace ends.  The kernel then sends forktrace SIGCHLD, which
 * cannot wake a stopped process, so a child polls for it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/job_stop.h"

/* The watcher's poll interval: a continued program waits at most this */
#define POLL_NS 20000000L
/* Polls for forktrace's stop before the watcher gives up: one second */
#define STOP_POLLS 50

/*
 * Reads /proc/PID/FILE into buf without malloc(), which a child of a
 * threaded process should not call.  Returns the length, or -1.
 */
static ssize_t
read_proc(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len >= 0)
		buf[len] = '\0';
	return len;
}

static bool
is_stopped(pid_t pid)
{
	char buf[512], *paren;

	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0)
		return false;
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'T';
}

static bool
sigchld_pending(pid_t pid)
{
	char buf[4096], *at;

	if (read_proc(pid, "status", buf, sizeof(buf)) < 0)
		return false;
	at = strstr(buf, "\nShdPnd:\t");
	return at && (strtoull(at + 9, NULL, 16) & (1ull << (SIGCHLD - 1)));
}

static void
nap(void)
{
	struct timespec ts = { 0, POLL_NS };

	nanosleep(&ts, NULL);
}

static void
run_watcher(pid_t tracer)
{
	static const int ignored[] = { SIGHUP,	SIGINT,	 SIGQUIT, SIGTERM,
				       SIGTSTP, SIGTTIN, SIGTTOU };
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != tracer)
		_exit(0);
	for (i = 0; i < STOP_POLLS && !is_stopped(tracer); i++)
		nap();
	while (is_stopped(tracer)) {
		if (sigchld_pending(tracer)) {
			kill(tracer, SIGCONT);
			break;
		}
		nap();
	}
	_exit(0);
}

pid_t
job_stop_watch(void)
{
	pid_t tracer = getpid();
	pid_t pid = fork();

	if (pid == 0)
		run_watcher(tracer);
	return pid;
}

void
job_stop_forget_sigchld(void)
{
	struct timespec none = { 0, 0 };
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &none) == SIGCHLD)
		;
}

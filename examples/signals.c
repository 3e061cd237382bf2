/*
 * A parent and its child signal each other with kill(): each side blocks
 * the signal it expects and takes it in a handler, by sigsuspend(), and
 * the parent finally ends the child with SIGTERM.  A handler rather than
 * sigwaitinfo() makes each signal a real delivery, which a tracer reports.
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

#define PROG "signals"

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Adds sig to the blocked set of the calling thread. */
static void
block_signal(int sig)
{
	sigset_t set;

	if (sigemptyset(&set) < 0 || sigaddset(&set, sig) < 0)
		die("sigaddset");
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");
}

static volatile sig_atomic_t caught_signal;

static void
catch_signal(int sig)
{
	caught_signal = sig;
}

/* Waits until the blocked signal sig is delivered to its handler. */
static void
wait_for_signal(int sig)
{
	struct sigaction action = { .sa_handler = catch_signal };
	sigset_t mask;

	if (sigaction(sig, &action, NULL) < 0)
		die("sigaction");
	if (sigprocmask(SIG_SETMASK, NULL, &mask) < 0)
		die("sigprocmask");
	if (sigdelset(&mask, sig) < 0)
		die("sigdelset");
	while (caught_signal != sig)
		sigsuspend(&mask);
}

/* Child: reports ready, takes SIGUSR1, sends SIGUSR2 back, waits for death. */
static void
run_child(int ready_fd)
{
	char byte = 'r';
	ssize_t n;

	alarm(20);
	block_signal(SIGUSR1);
	do {
		n = write(ready_fd, &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		die("write ready byte");
	wait_for_signal(SIGUSR1);
	if (kill(getppid(), SIGUSR2) < 0)
		die("kill parent SIGUSR2");
	/* SIGTERM keeps its default action, so it ends the process here. */
	for (;;)
		pause();
}

int
main(void)
{
	int pipe_fds[2];
	int status;
	char byte;
	ssize_t n;
	pid_t pid;

	alarm(20);
	/* Blocked before fork, so an early SIGUSR2 stays pending. */
	block_signal(SIGUSR2);
	if (pipe(pipe_fds) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (close(pipe_fds[0]) < 0)
			die("close");
		run_child(pipe_fds[1]);
	}
	if (close(pipe_fds[1]) < 0)
		die("close");
	do {
		n = read(pipe_fds[0], &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("read ready byte");
	if (n == 0) {
		fprintf(stderr, PROG ": child exited before it was ready\n");
		exit(1);
	}
	if (kill(pid, SIGUSR1) < 0)
		die("kill child SIGUSR1");
	wait_for_signal(SIGUSR2);
	if (kill(pid, SIGTERM) < 0)
		die("kill child SIGTERM");
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		return 0;
	return 1;
}

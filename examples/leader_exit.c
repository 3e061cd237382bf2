/*
 * The thread-group leader calls pthread_exit() while other threads go on
 * running, so the leader stays a zombie until the last thread ends the
 * process with exit(5).
 *
 * Usage: leader_exit [--wait-stdin]
 * With --wait-stdin, the last thread prints "ready" once the leader is a
 * zombie, and waits for a byte or the end of its standard input, so that
 * a tracer can attach meanwhile.  It then forks a child that exits at
 * once, and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG		    "leader_exit"
#define LEADER_WAIT_SECONDS 10

static int pipe_fds[2];
static pthread_t thread_a;
static int wait_for_stdin;

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
die_err(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

/* Reads the leader's state letter, field 3 of /proc/self/stat. */
static char
read_leader_state(void)
{
	char buf[512];
	char *paren;
	ssize_t n;
	int fd;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open /proc/self/stat");
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("read /proc/self/stat");
	if (close(fd) < 0)
		die("close /proc/self/stat");
	buf[n] = '\0';
	/* The command name in field 2 may contain spaces and parentheses. */
	paren = strrchr(buf, ')');
	if (paren == NULL || paren[1] != ' ' || paren[2] == '\0') {
		fprintf(stderr, PROG ": unexpected /proc/self/stat format\n");
		exit(1);
	}
	return paren[2];
}

static double
monotonic_seconds(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		die("clock_gettime");
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Spins with sched_yield() until the leader is a zombie, or times out. */
static void
wait_for_leader_zombie(void)
{
	double deadline = monotonic_seconds() + LEADER_WAIT_SECONDS;

	while (read_leader_state() != 'Z') {
		if (monotonic_seconds() > deadline) {
			fprintf(stderr,
				PROG ": timed out: leader still not a "
				     "zombie after %d s\n",
				LEADER_WAIT_SECONDS);
			exit(1);
		}
		sched_yield();
	}
}

/* Thread A: waits for the leader to become a zombie, then wakes thread B. */
static void *
thread_a_main(void *arg)
{
	char byte = 'a';
	ssize_t n;

	(void)arg;
	wait_for_leader_zombie();
	do {
		n = write(pipe_fds[1], &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		die("write pipe");
	return NULL;
}

/* Thread B: waits for thread A's byte and its end, then exits with 5. */
static void *
thread_b_main(void *arg)
{
	char byte;
	ssize_t n;
	int err;

	(void)arg;
	do {
		n = read(pipe_fds[0], &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("read pipe");
	if (n == 0) {
		fprintf(stderr, PROG ": pipe closed before thread A wrote\n");
		exit(1);
	}
	err = pthread_join(thread_a, NULL);
	if (err != 0)
		die_err("pthread_join thread A", err);
	if (wait_for_stdin) {
		pid_t child;

		if (write(1, "ready\n", 6) != 6)
			die("write stdout");
		while (read(0, &byte, 1) < 0 && errno == EINTR)
			;
		child = fork(); /* site: thread_b_fork */
		if (child < 0)
			die("fork");
		if (child == 0)
			_exit(0);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	exit(5); /* site: thread_b_exit */
}

int
main(int argc, char **argv)
{
	pthread_t thread_b;
	int err;

	wait_for_stdin = argc > 1 && !strcmp(argv[1], "--wait-stdin");
	alarm(20);
	if (pipe(pipe_fds) < 0)
		die("pipe");
	err = pthread_create(&thread_a, NULL, thread_a_main, NULL);
	if (err != 0)
		die_err("pthread_create thread A", err);
	err = pthread_create(&thread_b, NULL, thread_b_main, NULL);
	if (err != 0)
		die_err("pthread_create thread B", err);
	/* Ends only the leader thread, so the process lives on in A and B. */
	pthread_exit(NULL);
}

/*
 * A stress load for the tests, not an example for users: it creates a
 * thread and stops itself at once, round after round, so that the new
 * thread's first stop can come after its process began to stop.
 *
 * usage: stop_new_thread FIFO [ROUNDS]
 *
 * The rounds run in a child, so that its stops do not stop a tracer that
 * stops with the program it runs.  The parent writes the child's pid and
 * a newline to FIFO, then one byte each time waitpid() reports the child
 * stopped: its whole group stop is then over.  After a SIGCONT the child
 * lets the thread end and joins it.  Exits with the child's status: 0,
 * or 1 on an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_ROUNDS 100
#define MAX_ROUNDS     10000

static int go[2];

static void
die(const char *what)
{
	fprintf(stderr, "stop_new_thread: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Waits for the main thread's byte, then ends. */
static void *
wait_for_go(void *arg)
{
	char byte;

	while (read(go[0], &byte, 1) < 0 && errno == EINTR)
		;
	return arg;
}

/* Runs the rounds and returns 0; exits 1 on an error. */
static int
run_rounds(long rounds)
{
	pthread_t thread;
	long round;
	int err;

	for (round = 0; round < rounds; round++) {
		if (pipe(go) < 0)
			die("pipe");
		err = pthread_create(&thread, NULL, wait_for_go, NULL);
		if (err) {
			errno = err;
			die("pthread_create");
		}
		raise(SIGSTOP);
		if (write(go[1], "g", 1) != 1)
			die("write");
		pthread_join(thread, NULL);
		close(go[0]);
		close(go[1]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long rounds = DEFAULT_ROUNDS;
	char line[32];
	int fifo, status;
	pid_t pid;

	alarm(60);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: stop_new_thread FIFO [ROUNDS]\n");
		return 2;
	}
	if (argc == 3)
		rounds = strtol(argv[2], NULL, 10);
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "stop_new_thread: invalid ROUNDS: %s\n",
			argv[2]);
		return 2;
	}
	fifo = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fifo < 0)
		die(argv[1]);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(run_rounds(rounds));
	snprintf(line, sizeof(line), "%d\n", (int)pid);
	if (write(fifo, line, strlen(line)) < 0)
		die("write");
	for (;;) {
		if (waitpid(pid, &status, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid");
		}
		if (!WIFSTOPPED(status))
			break;
		if (write(fifo, "s", 1) != 1)
			die("write");
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/*
 * The classic hung fork.  A thread takes a mutex and sleeps holding it;
 * main forks meanwhile.  The child gets only the thread that called
 * fork(), and the mutex stays locked in it with its owner left behind,
 * so the child's pthread_mutex_lock() waits forever.
 *
 * Usage: fork_lock [SECONDS]
 * The parent waits for the child; both end by SIGALRM after SECONDS (30
 * by default), so the example never outlives its caller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "fork_lock"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ready[2];

static void
die(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

static void *
hold_lock(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)arg;
	pthread_mutex_lock(&lock);
	if (write(ready[1], &tid, sizeof(tid)) != sizeof(tid))
		die("write", errno);
	for (;;)
		pause(); /* site: holder sleeps */
	return NULL;
}

/* Waits until thread tid sleeps, so that the fork finds it in pause(). */
static void
wait_until_sleeping(pid_t tid)
{
	struct timespec pause_time = { 0, 1000000 };
	char path[64], text[512], *paren;
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (i = 0; i < 10000; i++) {
		FILE *fp = fopen(path, "re");
		size_t n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;

		if (fp)
			fclose(fp);
		text[n] = '\0';
		paren = strrchr(text, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'S')
			return;
		nanosleep(&pause_time, NULL);
	}
}

int
main(int argc, char **argv)
{
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 30;
	pthread_t holder;
	pid_t tid, child;
	int err, status;

	alarm(seconds);
	if (pipe(ready) < 0)
		die("pipe", errno);
	err = pthread_create(&holder, NULL, hold_lock, NULL);
	if (err)
		die("pthread_create", err);
	pthread_setname_np(holder, "holder");
	if (read(ready[0], &tid, sizeof(tid)) != sizeof(tid))
		die("read", errno);
	wait_until_sleeping(tid);

	child = fork(); /* site: fork with the lock held */
	if (child < 0)
		die("fork", errno);
	if (child == 0) {
		alarm(seconds);
		pthread_mutex_lock(&lock); /* site: child locks */
		_exit(0);
	}
	printf("child %d waits for the lock that thread %d holds\n", (int)child,
	       (int)tid);
	fflush(stdout);
	if (waitpid(child, &status, 0) < 0)
		die("waitpid", errno);
	return 0;
}

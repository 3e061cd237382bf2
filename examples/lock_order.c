/*
 * Two threads that take two mutexes in opposite orders.  main holds A and
 * wants B; the other thread holds B and wants A.  Pipes order the steps,
 * so the deadlock happens every time.
 *
 * Usage: lock_order [SECONDS]
 * The process ends by SIGALRM after SECONDS (30 by default).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static int has_b[2], main_has_a[2];

static void
die(const char *what, int err)
{
	fprintf(stderr, "lock_order: %s: %s\n", what, strerror(err));
	exit(1);
}

static void *
take_b_then_a(void *arg)
{
	char c = 'b';

	(void)arg;
	pthread_mutex_lock(&b);
	if (write(has_b[1], &c, 1) != 1)
		die("write", errno);
	if (read(main_has_a[0], &c, 1) != 1)
		die("read", errno);
	pthread_mutex_lock(&a); /* site: thread locks a */
	return NULL;
}

int
main(int argc, char **argv)
{
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 30;
	pthread_t thread;
	char c = 'a';
	int err;

	alarm(seconds);
	if (pipe(has_b) < 0 || pipe(main_has_a) < 0)
		die("pipe", errno);
	pthread_mutex_lock(&a);
	err = pthread_create(&thread, NULL, take_b_then_a, NULL);
	if (err)
		die("pthread_create", err);
	if (read(has_b[0], &c, 1) != 1)
		die("read", errno);
	if (write(main_has_a[1], &c, 1) != 1)
		die("write", errno);
	pthread_mutex_lock(&b); /* site: main locks b */
	return 0;
}

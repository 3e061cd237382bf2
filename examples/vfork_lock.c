/*
 * A vfork child that blocks before it execs holds its parent in vfork().
 * The parent locks a mutex and calls vfork(); the child, which shares the
 * parent's memory, waits for that mutex, whose owner is the suspended
 * parent.  The parent waits in an uninterruptible sleep until the child
 * execs or exits, so neither moves again.
 *
 * Usage: vfork_lock [SECONDS]
 * Both end by SIGALRM after SECONDS (30 by default): the child sets an
 * alarm of its own, since alarms are not inherited.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int
main(int argc, char **argv)
{
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 30;
	pid_t child;

	alarm(seconds);
	pthread_mutex_lock(&lock);
	child = vfork();
	if (child < 0) {
		fprintf(stderr, "vfork_lock: vfork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		alarm(seconds);
		pthread_mutex_lock(&lock); /* site: vfork child locks */
		_exit(0);
	}
	return 0;
}

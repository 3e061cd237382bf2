/*
 * A benchmark workload: creates N threads in batches, joining each batch
 * before the next, as a thread-per-task server does.
 *
 * usage: threads N BATCH
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BATCH 64

static void *
work(void *arg)
{
	return arg;
}

int
main(int argc, char **argv)
{
	pthread_t threads[MAX_BATCH];
	long count, batch, done, i, n;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: threads N BATCH\n");
		return 2;
	}
	count = strtol(argv[1], NULL, 10);
	batch = strtol(argv[2], NULL, 10);
	if (count < 1 || count > 1000000 || batch < 1 || batch > MAX_BATCH) {
		fprintf(stderr, "threads: invalid N or BATCH (1 to %d)\n",
			MAX_BATCH);
		return 2;
	}
	alarm(300);
	for (done = 0; done < count; done += n) {
		n = count - done < batch ? count - done : batch;
		for (i = 0; i < n; i++) {
			err = pthread_create(&threads[i], NULL, work, NULL);
			if (err) {
				fprintf(stderr, "threads: pthread_create: %s\n",
					strerror(err));
				return 1;
			}
		}
		for (i = 0; i < n; i++)
			pthread_join(threads[i], NULL);
	}
	return 0;
}

/*
 * A running family to attach to: the parent starts a thread and forks
 * COUNT children (3 by default), one every DELAY milliseconds (0 by
 * default), printing each child's pid.  Each child runs THREADS threads
 * (1 by default).  Every member then reads the FIFO
 * named by the first argument until EOF, so the family ends when its last
 * writer closes it; open the writer before starting the family.  Child i exits with 10 + i % 100; the parent exits 0
 * once all children did so.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *fifo_path;

static void
die(const char *what)
{
	fprintf(stderr, "attach_family: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Blocks until the FIFO has no writer left.  The open does not wait for a
 * writer, so a member that opens the FIFO after the last writer closed it
 * ends at once instead of waiting for a writer that never comes.
 */
static void
wait_for_eof(void)
{
	char buf[64];
	int fd = open(fifo_path, O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		die("open the FIFO");
	if (fcntl(fd, F_SETFL, 0) < 0)
		die("fcntl");
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static void *
thread_main(void *arg)
{
	(void)arg;
	wait_for_eof();
	return NULL;
}

int
main(int argc, char **argv)
{
	long count = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
	long delay_ms = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
	long threads = argc > 4 ? strtol(argv[4], NULL, 10) : 1;
	struct timespec delay = { delay_ms / 1000, delay_ms % 1000 * 1000000 };
	pthread_t thread;
	long i, wrong = 0;
	int status;

	if (argc < 2 || count < 1 || count > 2000 || delay_ms < 0 ||
	    delay_ms > 1000 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: attach_family FIFO [COUNT [DELAY_MS "
				"[THREADS]]]\n");
		return 2;
	}
	fifo_path = argv[1];
	alarm(60);
	if (pthread_create(&thread, NULL, thread_main, NULL) != 0)
		die("pthread_create");
	for (i = 0; i < count; i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			long n;

			alarm(60); /* a child does not inherit its parent's */
			for (n = 1; n < threads; n++)
				if (pthread_create(&thread, NULL, thread_main,
						   NULL) != 0)
					die("pthread_create");
			wait_for_eof();
			_exit(10 + (int)(i % 100));
		}
		printf("child %d\n", (int)pid);
		if (delay_ms)
			nanosleep(&delay, NULL);
	}
	printf("forked all\n");
	fflush(stdout);
	for (i = 0; i < count; i++) {
		pid_t pid = wait(&status);

		if (pid < 0)
			die("wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status) < 10)
			wrong++;
	}
	pthread_join(thread, NULL);
	return wrong ? 1 : 0;
}

/*
 * A child whose main thread exits first, leaving a zombie leader and one
 * thread that reads the FIFO named by the argument until EOF.  The parent
 * does not wait for it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fifo_path;

static void *
read_until_eof(void *arg)
{
	char buf[64];
	int fd;

	(void)arg;
	fd = open(fifo_path, O_RDONLY);
	if (fd < 0) {
		perror("zombie_leader: open");
		exit(1);
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	exit(0);
}

int
main(int argc, char **argv)
{
	pthread_t thread;
	pid_t pid;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: zombie_leader FIFO\n");
		return 2;
	}
	fifo_path = argv[1];
	pid = fork();
	if (pid < 0) {
		perror("zombie_leader: fork");
		return 1;
	}
	if (pid > 0)
		return 0;
	alarm(60);
	err = pthread_create(&thread, NULL, read_until_eof, NULL);
	if (err) {
		fprintf(stderr, "zombie_leader: %s\n", strerror(err));
		return 1;
	}
	pthread_exit(NULL);
}

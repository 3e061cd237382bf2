/*
 * A child that a debugger can take over: the parent forks it from
 * spawn_child(), and the child waits for one byte on the FIFO named by
 * its argument before it becomes a shell that forks once more.  A test
 * can so pause the child, attach a debugger, let it go, and only then
 * let the child fork its own child.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "pause_child: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Waits for the go byte, then runs a shell that forks a child of its own. */
static void
run_child(const char *go_path)
{
	char byte;
	int fd;

	fd = open(go_path, O_RDONLY);
	if (fd < 0)
		die("open the go FIFO");
	if (read(fd, &byte, 1) != 1)
		die("read the go byte");
	close(fd);
	execl("/bin/sh", "sh", "-c", "sh -c 'exit 3'; exit 7", (char *)NULL);
	die("exec /bin/sh");
}

static pid_t
spawn_child(const char *go_path)
{
	pid_t pid = fork(); /* site: spawn_child */

	if (pid < 0)
		die("fork");
	if (pid == 0)
		run_child(go_path);
	return pid;
}

int
main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: pause_child GO_FIFO\n");
		return 2;
	}
	alarm(60);
	pid = spawn_child(argv[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	printf("child exited %d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}

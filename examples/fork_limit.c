/*
 * Tries forks under a low RLIMIT_NPROC, so that the last ones fail with
 * EAGAIN.  Started as root, it lowers RLIMIT_NPROC so that the user UID
 * may run ALLOWED more processes than it runs now, becomes that user, and
 * tries ATTEMPTS forks while every child it forked stays alive.  It prints the
 * result of each attempt
 * ("ok", or the errno's name) and how each child ended, without pids.
 * Child i exits i once the parent closes the pipe it waits on.  It exits
 * 0 when every failure was EAGAIN and every child exited as expected.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG	     "fork_limit"
#define MAX_ATTEMPTS 32

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Returns the number of threads whose real uid is uid, which is what
 * RLIMIT_NPROC limits.  NOTE: a process of that user that starts or ends
 * between this count and the forks moves the limit by one.
 */
static long
count_user_threads(uid_t uid)
{
	DIR *dir = opendir("/proc");
	struct dirent *entry;
	long count = 0;

	if (!dir)
		die("open /proc");
	while ((entry = readdir(dir))) {
		char path[300], line[256];
		unsigned long real_uid = 0;
		long threads = 0;
		bool uid_matches = false;
		FILE *fp;

		if (!isdigit((unsigned char)entry->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", entry->d_name);
		fp = fopen(path, "re");
		if (!fp)
			continue; /* it ended meanwhile */
		while (fgets(line, sizeof(line), fp)) {
			if (sscanf(line, "Uid: %lu", &real_uid) == 1)
				uid_matches = real_uid == uid;
			sscanf(line, "Threads: %ld", &threads);
		}
		fclose(fp);
		if (uid_matches)
			count += threads;
	}
	closedir(dir);
	return count;
}

/* Sets RLIMIT_NPROC, then becomes uid, giving up root's privileges. */
static void
become_limited_user(uid_t uid, long allowed)
{
	/* This process joins the user's count once it becomes the user. */
	rlim_t limit = (rlim_t)(count_user_threads(uid) + 1 + allowed);
	struct rlimit rl = { limit, limit };

	if (setrlimit(RLIMIT_NPROC, &rl) < 0)
		die("setrlimit");
	if (setgroups(0, NULL) < 0)
		die("setgroups");
	if (setgid((gid_t)uid) < 0)
		die("setgid");
	if (setuid(uid) < 0)
		die("setuid");
}

int
main(int argc, char **argv)
{
	pid_t children[MAX_ATTEMPTS];
	int release_pipe[2];
	long uid, attempts, allowed, i;
	int forked = 0, wrong = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: " PROG " UID ATTEMPTS ALLOWED\n");
		return 2;
	}
	uid = strtol(argv[1], NULL, 10);
	attempts = strtol(argv[2], NULL, 10);
	allowed = strtol(argv[3], NULL, 10);
	if (uid <= 0 || attempts < 1 || attempts > MAX_ATTEMPTS ||
	    allowed < 0) {
		fprintf(stderr,
			PROG ": UID must be another user than root, "
			     "ATTEMPTS 1 to 32 and ALLOWED 0 or more\n");
		return 2;
	}
	alarm(30);
	if (pipe(release_pipe) < 0)
		die("pipe");
	become_limited_user((uid_t)uid, allowed);

	for (i = 1; i <= attempts; i++) {
		pid_t pid;
		char byte;

		if (fflush(stdout) == EOF)
			die("fflush");
		pid = fork();
		if (pid == 0) {
			close(release_pipe[1]);
			while (read(release_pipe[0], &byte, 1) < 0 &&
			       errno == EINTR)
				;
			_exit((int)i);
		}
		if (pid > 0) {
			children[forked++] = pid;
			printf("fork %ld: ok\n", i);
			continue;
		}
		printf("fork %ld: %s\n", i, strerrorname_np(errno));
		if (errno != EAGAIN)
			wrong++;
	}
	close(release_pipe[1]);
	for (i = 0; i < forked; i++) {
		int status;

		while (waitpid(children[i], &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (WIFEXITED(status))
			printf("child %ld: exit %d\n", i + 1,
			       WEXITSTATUS(status));
		else
			printf("child %ld: killed by signal %d\n", i + 1,
			       WTERMSIG(status));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != i + 1)
			wrong++;
	}
	return wrong ? 1 : 0;
}

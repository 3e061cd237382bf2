/* Starting the traced program. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/launch.h"
#include "forktrace/seize.h"

/*
 * Returns true when the file at path starts with the ELF magic number or
 * has a NUL byte in its first line.  bash and dash take such a file for a
 * binary that the kernel could not run, and run other files that the
 * kernel rejects as shell scripts.
 */
static bool
looks_binary(const char *path)
{
	char head[128];
	const char *newline;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n <= 0)
		return false;
	if (n >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG))
		return true;
	newline = memchr(head, '\n', (size_t)n);
	if (newline)
		n = newline - head;
	return memchr(head, '\0', (size_t)n) != NULL;
}

/*
 * Execs path with argv.  A file that the kernel rejects with ENOEXEC runs
 * under /bin/sh as a script, as execvp() does, unless it looks binary: a
 * truncated or corrupt executable then fails with ENOEXEC, as in a shell.
 * Returns only on failure, with errno set.
 */
static void
exec_file(const char *path, char **argv)
{
	size_t argc = 0, i;
	char **script_argv;

	execv(path, argv);
	if (errno != ENOEXEC || looks_binary(path))
		return;
	while (argv[argc])
		argc++;
	script_argv = calloc(argc + 2, sizeof(*script_argv));
	if (!script_argv) {
		errno = ENOMEM;
		return;
	}
	script_argv[0] = (char *)"/bin/sh";
	script_argv[1] = (char *)path;
	for (i = 1; i < argc; i++)
		script_argv[i + 1] = argv[i];
	execv("/bin/sh", script_argv);
	free(script_argv);
	errno = ENOEXEC;
}

/*
 * Execs command[0], searched in PATH when it has no slash, as execvp()
 * does: an EACCES on the way is reported if no directory has the program.
 * Returns only on failure, with errno set.
 */
static void
exec_command(char **command)
{
	const char *dirs = getenv("PATH");
	char path[PATH_MAX];
	bool denied = false;

	if (!command[0][0] || strchr(command[0], '/')) {
		exec_file(command[0], command);
		return;
	}
	if (!dirs)
		dirs = "/bin:/usr/bin";
	for (;;) {
		size_t len = strcspn(dirs, ":");

		/* An empty entry is the current directory. */
		if (snprintf(path, sizeof(path), "%.*s%s%s", (int)len, dirs,
			     len ? "/" : "", command[0]) < (int)sizeof(path)) {
			exec_file(path, command);
			if (errno == EACCES)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!dirs[len])
			break;
		dirs += len + 1;
	}
	errno = denied ? EACCES : ENOENT;
}

/* Runs in the child: waits for the tracer's word, then execs. */
static void
run_child(char **command, const sigset_t *child_mask, int go_fd, int error_fd)
{
	char go;
	int err;

	if (read(go_fd, &go, 1) != 1)
		_exit(127); /* the tracer gave up on us */
	close(go_fd);

	sigprocmask(SIG_SETMASK, child_mask, NULL);
	exec_command(command);

	err = errno;
	if (write(error_fd, &err, sizeof(err)) < 0) {
		/* The tracer reports a failed exec from the exit code alone. */
	}
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

int
launch_command(char **command, unsigned long ptrace_options,
	       const sigset_t *child_mask, struct launch *launch)
{
	int go_pipe[2], error_pipe[2];
	char why[256];
	pid_t pid;

	if (pipe2(go_pipe, O_CLOEXEC) < 0 || pipe2(error_pipe, O_CLOEXEC) < 0)
		perror_msg_and_die("cannot create a pipe");

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		perror_msg_and_die("cannot fork to run '%s'", command[0]);
	if (pid == 0) {
		close(go_pipe[1]);
		close(error_pipe[0]);
		run_child(command, child_mask, go_pipe[0], error_pipe[1]);
	}
	close(go_pipe[0]);
	close(error_pipe[1]);

	if (seize_thread(pid, ptrace_options, why, sizeof(why)) < 0) {
		error_msg("cannot trace '%s' (pid %d): %s", command[0],
			  (int)pid, why);
		kill(pid, SIGKILL);
		close(go_pipe[1]);
		close(error_pipe[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}

	if (write(go_pipe[1], "", 1) != 1)
		perror_msg_and_die("cannot start '%s'", command[0]);
	close(go_pipe[1]);

	launch->pid = pid;
	launch->error_fd = error_pipe[0];
	return 0;
}

int
launch_exec_error(struct launch *launch)
{
	int err = 0;
	ssize_t n;

	if (launch->error_fd < 0)
		return 0;
	do
		n = read(launch->error_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(launch->error_fd);
	launch->error_fd = -1;
	return n == (ssize_t)sizeof(err) ? err : 0;
}

/*
 * A fork from a function that the compiler inlines: built with -O2, the
 * stack of the fork has an inlined frame for start_child() inside main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static inline __attribute__((always_inline)) pid_t
start_child(void)
{
	pid_t pid = fork(); /* site: start_child */

	if (pid == 0)
		_exit(0);
	return pid;
}

int
main(void)
{
	int status;
	pid_t pid;

	alarm(20);
	pid = start_child(); /* site: main_calls_start_child */
	if (pid < 0) {
		perror("inline_fork: fork");
		return 1;
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("inline_fork: waitpid");
		return 1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/*
 * A program that stops itself, as an editor does for ^Z in raw mode: a
 * shell waiting for it must see it stopped, and continue it with fg.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	alarm(60);
	if (kill(getpid(), SIGTSTP) < 0) {
		perror("self_stop: kill");
		return 1;
	}
	printf("resumed\n");
	return 0;
}

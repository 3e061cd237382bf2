/*
 * Counts the SIGINTs it receives in two seconds, with SIGQUIT ignored.
 * Once its handler is in place it raises SIGUSR1, which it ignores, so
 * that a tracer's timeline shows when signals can be sent.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t interrupts;
static volatile sig_atomic_t done;

static void
count_interrupt(int sig)
{
	(void)sig;
	interrupts++;
}

static void
end_wait(int sig)
{
	(void)sig;
	done = 1;
}

int
main(void)
{
	struct sigaction count = { .sa_handler = count_interrupt };
	struct sigaction alarm_action = { .sa_handler = end_wait };
	sigset_t empty;

	sigaction(SIGINT, &count, NULL);
	sigaction(SIGALRM, &alarm_action, NULL);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	alarm(2);
	sigemptyset(&empty);
	while (!done)
		sigsuspend(&empty);
	printf("SIGINT %d\n", (int)interrupts);
	return 0;
}

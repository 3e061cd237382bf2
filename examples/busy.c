/*
 * A busy worker: it spins in spin() until a signal ends it, or its
 * alarm after 60 seconds.
 */
#include <unistd.h>

static volatile unsigned long counter;

static void __attribute__((noinline)) spin(void)
{
	for (;;)
		counter++;
}

int
main(void)
{
	alarm(60);
	spin();
	return 0;
}

/*
 * Preloaded into forktrace by tests/valgrind.sh.
 *
 * valgrind 3.19 maps more of a program's main stack only when the program
 * first reaches below what is mapped, by catching the SIGSEGV of that
 * access, and ptrace reports that SIGSEGV to the tracer too.  forktrace's
 * child runs under valgrind from its fork to its exec, so when it reaches
 * a little deeper than forktrace had before the fork, forktrace reports a
 * SIGSEGV that the child never gets natively.  Writing STACK_BYTES of
 * stack before main() has valgrind map them once, in forktrace itself.
 *
 * The constructor then takes this library out of LD_PRELOAD, so that the
 * programs that forktrace runs do not load it.  It does nothing in the
 * native processes that start valgrind, which load it as well.
 */
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

/* Far more than the few KiB that forktrace's child uses before its exec. */
#define STACK_BYTES (256 * 1024)

#define LIBRARY_NAME "/valgrind_stack.so"

static void
touch_stack(void)
{
	char bytes[STACK_BYTES];

	memset(bytes, 0, sizeof(bytes));
	/* Keeps the compiler from dropping the writes as dead. */
	__asm__ volatile("" : : "r"(bytes) : "memory");
}

/* Removes the entries that end with LIBRARY_NAME from LD_PRELOAD. */
static void
remove_from_preload(void)
{
	const char *value = getenv("LD_PRELOAD");
	size_t name_len = strlen(LIBRARY_NAME);
	char *copy, *remaining, *entry, *save;

	if (!value)
		return;
	copy = strdup(value);
	remaining = calloc(1, strlen(value) + 1);
	if (!copy || !remaining)
		abort();
	for (entry = strtok_r(copy, ": ", &save); entry;
	     entry = strtok_r(NULL, ": ", &save)) {
		size_t len = strlen(entry);

		if (len >= name_len &&
		    !strcmp(entry + len - name_len, LIBRARY_NAME))
			continue;
		if (remaining[0])
			strcat(remaining, ":");
		strcat(remaining, entry);
	}
	if (remaining[0])
		setenv("LD_PRELOAD", remaining, 1);
	else
		unsetenv("LD_PRELOAD");
	free(copy);
	free(remaining);
}

__attribute__((constructor)) static void
prepare_forktrace(void)
{
	if (!RUNNING_ON_VALGRIND)
		return;
	touch_stack();
	remove_from_preload();
}

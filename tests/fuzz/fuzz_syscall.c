/*
 * Fuzz target for snapshot_parse_syscall(), the parser of
 * /proc/TID/syscall, which takes NUL-terminated text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_thread_snapshot thread = { 0 };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (snapshot_parse_syscall(text, &thread) &&
	    (!thread.in_syscall || thread.syscall_nr < 0))
		abort();
	syscall_name(thread.syscall_nr);
	free(text);
	return 0;
}

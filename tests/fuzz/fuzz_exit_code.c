/*
 * Fuzz target for procfs_parse_exit_code(), the reader of a zombie's
 * wait status in /proc/PID/stat, which takes NUL-terminated text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int status = -1;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (procfs_parse_exit_code(text, &status) == 0 &&
	    (status < 0 || status > 0xffff))
		abort();
	free(text);
	return 0;
}

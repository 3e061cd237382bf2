/*
 * Fuzz target for procfs_status_field(), the parser of /proc/PID/status.
 * The first byte picks the key.  The rest is the file's text, in a buffer
 * of its exact size, so that a read past its end is caught.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "TracerPid", "PPid",  "Tgid", "Pid",
					    "Threads",	 "VmRSS", "T",	  "" };
	const char *key;
	char *text;
	long value = 0;

	if (size < 1)
		return 0;
	key = keys[data[0] % (sizeof(keys) / sizeof(keys[0]))];
	text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	procfs_status_field(text, size - 1, key, &value);
	free(text);
	return 0;
}

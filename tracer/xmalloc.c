/* Allocation that cannot fail: forktrace ends with a message instead. */
#include <stdlib.h>
#include <string.h>

#include "forktrace/error.h"
#include "forktrace/xmalloc.h"

static void
die_out_of_memory(size_t size)
{
	error_msg_and_die("out of memory allocating %zu bytes", size);
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die_out_of_memory(size);
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		die_out_of_memory(count * size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die_out_of_memory(size);
	return p;
}

void *
xgrow(void *ptr, size_t *capacity, size_t element_size)
{
	size_t n = *capacity ? *capacity * 2 : 8;

	if (n < *capacity || n > (size_t)-1 / element_size)
		die_out_of_memory((size_t)-1);
	*capacity = n;
	return xrealloc(ptr, n * element_size);
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

char *
xmemdup(const void *p, size_t size)
{
	char *copy = xmalloc(size);

	memcpy(copy, p, size);
	return copy;
}

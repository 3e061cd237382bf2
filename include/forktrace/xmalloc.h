/* Allocation wrappers that end forktrace when memory runs out. */
#ifndef FORKTRACE_XMALLOC_H
#define FORKTRACE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of count elements by at least one; returns the new array. */
void *xgrow(void *ptr, size_t *capacity, size_t element_size);
char *xstrdup(const char *s);
char *xmemdup(const void *p, size_t size);

#endif

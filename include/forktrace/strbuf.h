/* A growable byte string, always NUL-terminated. */
#ifndef FORKTRACE_STRBUF_H
#define FORKTRACE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "forktrace/error.h"

struct strbuf {
	char *buf;
	size_t len;
	size_t capacity;
};

#define STRBUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	ATTRIBUTE_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Appends n spaces. */
void strbuf_pad(struct strbuf *sb, size_t n);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Returns the string, which stays valid until the next change. */
const char *strbuf_str(const struct strbuf *sb);

#endif

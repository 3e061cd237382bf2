/* The error-print core: one write(2) per message. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/error.h"

const char *program_name = "forktrace";
FILE *debug_file;

/* Appends to buf, which has room for size bytes; cuts what does not fit. */
static size_t
append_vformat(char *buf, size_t len, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf + len, size - len, fmt, ap);

	if (n < 0)
		return len;
	return len + (size_t)n < size ? len + (size_t)n : size - 1;
}

static size_t
append_format(char *buf, size_t len, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	len = append_vformat(buf, len, size, fmt, ap);
	va_end(ap);
	return len;
}

static void
vprint_message(const char *prefix, int err, const char *fmt, va_list ap)
{
	char buf[1024];
	/* One byte stays free for the newline, even when the text is cut. */
	size_t size = sizeof(buf) - 1;
	size_t len;

	len = append_format(buf, 0, size, "%s: %s", program_name, prefix);
	len = append_vformat(buf, len, size, fmt, ap);
	if (err)
		len = append_format(buf, len, size, ": %s", strerror(err));
	buf[len++] = '\n';

	fflush(stdout);
	if (write(STDERR_FILENO, buf, len) < 0) {
		/* Nowhere left to report it. */
	}
}

void
error_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_message("", 0, fmt, ap);
	va_end(ap);
}

void
perror_msg(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vprint_message("", err, fmt, ap);
	va_end(ap);
}

void
error_msg_and_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_message("", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
perror_msg_and_die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vprint_message("", err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
bug_at(const char *file, int line, const char *fmt, ...)
{
	char where[256];
	va_list ap;

	snprintf(where, sizeof(where), "BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vprint_message(where, 0, fmt, ap);
	va_end(ap);
	abort();
}

void
debug_init(void)
{
	const char *path = getenv("FORKTRACE_TRACE");

	if (!path || !*path)
		return;
	debug_file = fopen(path, "we");
	if (!debug_file)
		perror_msg("cannot open FORKTRACE_TRACE file '%s'", path);
	else
		setvbuf(debug_file, NULL, _IOLBF, 0);
}

void
debug_at(int tid, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(debug_file, "%ld.%06ld [%d] ", (long)ts.tv_sec,
		ts.tv_nsec / 1000, tid);
	va_start(ap, fmt);
	vfprintf(debug_file, fmt, ap);
	va_end(ap);
	fputc('\n', debug_file);
}

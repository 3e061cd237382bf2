/*
 * Error, warning and debug messages of forktrace.
 *
 * Every message is written to stderr in one write(2) call, prefixed with the
 * program name: "forktrace: what failed: why".  The perror_ variants append
 * ": " and strerror(errno).
 */
#ifndef FORKTRACE_ERROR_H
#define FORKTRACE_ERROR_H

#include <stdbool.h>
#include <stdio.h>

#define ATTRIBUTE_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#define ATTRIBUTE_NORETURN	     __attribute__((noreturn))

/* Prefix of every message; main() sets it from argv[0]'s basename. */
extern const char *program_name;

void error_msg(const char *fmt, ...) ATTRIBUTE_PRINTF(1, 2);
void perror_msg(const char *fmt, ...) ATTRIBUTE_PRINTF(1, 2);
void error_msg_and_die(const char *fmt, ...)
	ATTRIBUTE_PRINTF(1, 2) ATTRIBUTE_NORETURN;
void perror_msg_and_die(const char *fmt, ...)
	ATTRIBUTE_PRINTF(1, 2) ATTRIBUTE_NORETURN;

/* Reports an impossible state with its place in the source, then aborts. */
void bug_at(const char *file, int line, const char *fmt, ...)
	ATTRIBUTE_PRINTF(3, 4) ATTRIBUTE_NORETURN;
#define BUG(...) bug_at(__FILE__, __LINE__, __VA_ARGS__)

/*
 * Debug trace, enabled by FORKTRACE_TRACE=PATH in the environment.  The
 * arguments are evaluated only when the trace is on.  Each line carries
 * forktrace's time since start and the tid the line is about.
 */
extern FILE *debug_file;
void debug_init(void);
void debug_at(int tid, const char *fmt, ...) ATTRIBUTE_PRINTF(2, 3);
#define debug_msg(tid, ...)                           \
	do {                                          \
		if (debug_file)                       \
			debug_at((tid), __VA_ARGS__); \
	} while (0)

#endif

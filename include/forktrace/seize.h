/* Attaching to processes and letting go of them. */
#ifndef FORKTRACE_SEIZE_H
#define FORKTRACE_SEIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The ptrace options that forktrace sets on every traced thread. */
unsigned long seize_options(bool kill_on_exit);

/*
 * Seizes tid with PTRACE_SEIZE, without stopping it.  Returns 0, or -errno
 * with a sentence in why (of why_size bytes) that explains the failure and
 * what to check.
 */
int seize_thread(pid_t tid, unsigned long options, char *why, size_t why_size);

#endif

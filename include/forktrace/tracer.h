/* The ptrace event loop: runs the traced family to its end. */
#ifndef FORKTRACE_TRACER_H
#define FORKTRACE_TRACER_H

#include "forktrace/options.h"

/*
 * Launches opts->command under ptrace, follows its family until the last
 * member ends or forktrace lets go of it, and prints what opts requests.
 * Returns forktrace's exit status: the command's own, 128+N when a signal
 * N killed it, 127 or 126 when it could not be run, 1 on other failures.
 * Sets *end_signal to the signal that forktrace should end by, or to 0.
 * That is the signal that killed the command, or else the signal to
 * forktrace that ended the trace before the command ended.
 */
int tracer_run(const struct ft_options *opts, int *end_signal);

#endif

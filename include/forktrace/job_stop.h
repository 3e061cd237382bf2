/*
 * The watcher that continues forktrace, stopped together with its
 * program, when a process outside the job continues the program alone.
 */
#ifndef FORKTRACE_JOB_STOP_H
#define FORKTRACE_JOB_STOP_H

#include <sys/types.h>

/*
 * Forks a watcher of the calling process, which is about to stop itself
 * with SIGCHLD blocked.  Once the caller is stopped, the watcher polls its
 * pending signals and sends it SIGCONT when a SIGCHLD comes, as when the
 * program, continued alone, waits in a ptrace stop for forktrace.  The
 * watcher ends once the caller runs again.  Returns its pid, or -1.
 */
pid_t job_stop_watch(void);

/* Discards the caller's pending SIGCHLD, which it keeps blocked. */
void job_stop_forget_sigchld(void);

#endif

/* PTRACE_SEIZE, and the reasons it fails, in words a user can act on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forktrace/procfs.h"
#include "forktrace/seize.h"

unsigned long
seize_options(bool kill_on_exit)
{
	unsigned long options = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
				PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
				PTRACE_O_TRACEEXIT;

	if (kill_on_exit)
		options |= PTRACE_O_EXITKILL;
	return options;
}

/* Explains an EPERM from PTRACE_SEIZE on tid. */
static void
explain_eperm(pid_t tid, char *why, size_t why_size)
{
	char path[64], *text;
	size_t len;
	long tracer = 0;
	struct stat st;
	long scope;

	/* The kernel refuses to attach to a task that is exiting. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (procfs_read_file(path, &text, &len) == 0) {
		const char *state = strstr(text, "\nState:\t");
		bool exiting = state && (state[8] == 'Z' || state[8] == 'X');

		free(text);
		if (exiting) {
			snprintf(why, why_size, "it is exiting");
			return;
		}
	}

	if (procfs_read_status_field(tid, "TracerPid", &tracer) == 0 &&
	    tracer > 0) {
		char comm[16] = "?";

		procfs_read_comm((pid_t)tracer, comm);
		snprintf(why, why_size, "it is already traced by pid %ld (%s)",
			 tracer, comm);
		return;
	}

	snprintf(path, sizeof(path), "/proc/%d", (int)tid);
	if (stat(path, &st) == 0 && geteuid() != 0 && st.st_uid != geteuid()) {
		snprintf(why, why_size,
			 "it belongs to uid %u: run forktrace as that user "
			 "or as root",
			 (unsigned)st.st_uid);
		return;
	}

	if (procfs_read_file("/proc/sys/kernel/yama/ptrace_scope", &text,
			     &len) == 0) {
		scope = strtol(text, NULL, 10);
		free(text);
		if (scope > 0 && geteuid() != 0) {
			snprintf(why, why_size,
				 "Yama's ptrace_scope is %ld: see "
				 "/proc/sys/kernel/yama/ptrace_scope",
				 scope);
			return;
		}
		if (scope == 3) {
			snprintf(why, why_size,
				 "Yama's ptrace_scope is 3, which forbids "
				 "all tracing until reboot");
			return;
		}
	}

	snprintf(why, why_size,
		 "ptrace is not permitted here: check for a seccomp filter, "
		 "a security module or a container without CAP_SYS_PTRACE");
}

int
seize_thread(pid_t tid, unsigned long options, char *why, size_t why_size)
{
	int err;

	if (ptrace(PTRACE_SEIZE, tid, 0L, options) == 0)
		return 0;
	err = errno;
	switch (err) {
	case EPERM:
		explain_eperm(tid, why, why_size);
		break;
	case ESRCH:
		snprintf(why, why_size, "no such process");
		break;
	default:
		snprintf(why, why_size, "%s", strerror(err));
		break;
	}
	return -err;
}

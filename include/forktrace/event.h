/*
 * The event: one record of something that happened in the traced family.
 *
 * The ptrace loop fills in events, the family model absorbs them and the
 * outputs print them.  Strings that an event points to belong to the code
 * that emitted it, and stay valid only during the call that delivers the
 * event.
 */
#ifndef FORKTRACE_EVENT_H
#define FORKTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ft_stack;
struct ft_snapshot;
struct ft_hang_report;

enum ft_event_kind {
	FT_EVENT_FORK, /* a new process by fork() or a clone() like it */
	FT_EVENT_VFORK, /* a new process that shares its parent's memory */
	FT_EVENT_THREAD, /* a new thread in the same process */
	FT_EVENT_EXEC, /* the process started a new program */
	FT_EVENT_EXIT, /* a thread or the whole process ended */
	FT_EVENT_SIGNAL, /* a signal is about to be delivered */
	FT_EVENT_STOP, /* the process entered a group stop */
	FT_EVENT_CONTINUE, /* the process left its group stop */
	FT_EVENT_DETACH, /* forktrace let go of the process, still alive */
	FT_EVENT_PAUSE, /* handed over to a debugger, in a group stop */
	FT_EVENT_DEBUGGER_ATTACH, /* a debugger attached to a paused child */
	FT_EVENT_DEBUGGER_DETACH, /* the debugger left it */
	FT_EVENT_RESUME, /* forktrace took the paused child back */
	FT_EVENT_GAP, /* what forktrace could not see, now over */
	FT_EVENT_ATTACH, /* forktrace seized a process that was running */
	FT_EVENT_HANG, /* every thread of the process has been blocked */
};

/* A program's argument vector as the kernel stores it: NUL-separated. */
struct ft_args {
	const char *data;
	size_t len; /* bytes, including the last NUL */
};

struct ft_event {
	enum ft_event_kind kind;
	uint64_t time_ns; /* CLOCK_MONOTONIC, relative to the trace's start */
	pid_t pid; /* the process (thread group id) */
	pid_t tid; /* the thread that did it */

	/* FT_EVENT_FORK, FT_EVENT_VFORK, FT_EVENT_THREAD */
	pid_t child;

	/* FT_EVENT_EXEC */
	const char *path; /* /proc/PID/exe after the exec */
	const char *comm; /* the kernel's short name of the new program */
	struct ft_args args;
	pid_t former_tid; /* the thread that called execve() */

	/* FT_EVENT_EXIT: a wait status; thread is set for a thread's end */
	int status;
	bool thread;

	/* FT_EVENT_SIGNAL, FT_EVENT_STOP; the rest for FT_EVENT_SIGNAL only */
	int signo;
	int si_code;
	bool has_sender; /* sender_pid and sender_uid are valid */
	pid_t sender_pid;
	uid_t sender_uid;
	bool has_addr; /* fault_addr is valid */
	uint64_t fault_addr;
	/* A SIGCHLD for a child's end: that child's wait status */
	bool child_ended;
	int child_status;

	/* The thread's stack, where --stacks asked for one, or NULL */
	const struct ft_stack *stack;

	/* FT_EVENT_FORK of a child found through /proc after a gap */
	bool adopted;
	bool found_ended; /* and found a zombie: its program is unknown */
	/* FT_EVENT_GAP with gap_ended: status is the end's, when known */
	bool gap_status_known;
	/*
	 * FT_EVENT_FORK from a process with other threads: those threads,
	 * which the child does not get, or NULL
	 */
	const struct ft_snapshot *other_threads;

	/* FT_EVENT_HANG: the explanation, with the threads and stacks */
	const struct ft_hang_report *hang;

	/* FT_EVENT_PAUSE: "fork" or "exec", and why, when not the asked one */
	const char *pause_point;
	const char *pause_note;
	/* FT_EVENT_DEBUGGER_ATTACH, FT_EVENT_DEBUGGER_DETACH */
	pid_t debugger_pid;
	const char *debugger_comm;
	/* FT_EVENT_RESUME: what ended the pause */
	const char *resume_reason;
	/* FT_EVENT_GAP: since when; gap_ended when the process ended in it */
	uint64_t gap_start_ns;
	bool gap_ended;
};

struct procfs_program;

/* Points an event's path, comm and args at a program that /proc showed. */
void event_set_program(struct ft_event *event,
		       const struct procfs_program *program);

/* Returns the JSON name of an event kind: "fork", "exec", ... */
const char *event_kind_name(enum ft_event_kind kind);

/*
 * Returns true for the signals that a fault raises and whose default action
 * dumps core: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS and SIGTRAP.
 */
bool signal_is_fatal_fault(int signo);

/* Returns true for the signals whose default action is a group stop. */
bool signal_is_stop(int signo);

/*
 * Writes the signal's name ("SIGSEGV", "SIGRTMIN+2", "SIG99") to buf and
 * returns buf.
 */
const char *signal_name(int signo, char buf[16]);

/* Returns the name of a siginfo code ("SI_USER", "SEGV_MAPERR"), or NULL. */
const char *signal_code_name(int signo, int si_code);

/*
 * Returns true when a signal with this si_code carries its sender's pid and
 * uid in the siginfo.
 */
bool signal_code_has_sender(int signo, int si_code);

/* Returns true when this signal and si_code carry a fault address. */
bool signal_code_has_addr(int signo, int si_code);

#endif

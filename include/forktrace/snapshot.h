/*
 * A snapshot: where every thread of the family is at one moment, with its
 * state, the system call it is in, its wait channel, its CPU time and its
 * stack.
 */
#ifndef FORKTRACE_SNAPSHOT_H
#define FORKTRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "forktrace/stacks.h"

struct ft_hang_report;

struct ft_thread_snapshot {
	pid_t tid;
	pid_t pid;
	char name[16]; /* the thread's comm */
	char state; /* the letter of /proc/TID/stat */
	bool in_syscall; /* syscall_nr and syscall_args are valid */
	long syscall_nr;
	uint64_t syscall_args[6];
	char wchan[64];
	double cpu_seconds; /* user and system time */
	struct ft_stack *stack; /* NULL when it could not be stopped */
	const char *no_stack; /* why it was not stopped for one, or NULL */
	bool interrupted; /* its stop or its end is still to come */
};

struct ft_snapshot {
	uint64_t time_ns;
	struct ft_thread_snapshot *threads;
	size_t count;
	/* The hang reports of the processes whose threads are all blocked */
	struct ft_hang_report **reports;
	size_t report_count;
};

/* Reads the /proc facts of one thread: all but its stack. */
void snapshot_read_thread(pid_t pid, pid_t tid,
			  struct ft_thread_snapshot *thread);

/*
 * Returns NULL when interrupting the thread for its stack changes nothing
 * that the program can observe, or else the reason, as a phrase.
 */
const char *interrupt_harm(const struct ft_thread_snapshot *thread);

/*
 * Returns 1 when the socket fd of thread tid of process pid has a timeout
 * for option (SO_RCVTIMEO or SO_SNDTIMEO), 0 when it has none, and -1
 * when that is unknown.
 */
int socket_timeout(pid_t pid, pid_t tid, int fd, int option);

/* Returns true when socket_timeout() is 1 or -1. */
bool socket_has_timeout(pid_t pid, pid_t tid, int fd, int option);

/* Returns the report on process pid in the snapshot, or NULL. */
const struct ft_hang_report *snapshot_report(const struct ft_snapshot *snapshot,
					     pid_t pid);

/*
 * Parses the text of /proc/TID/syscall into thread.  Returns false for
 * text that names no system call ("running", or a thread between calls).
 */
bool snapshot_parse_syscall(const char *text,
			    struct ft_thread_snapshot *thread);

/* Returns the name of an x86_64 system call, or NULL when unknown. */
const char *syscall_name(long nr);

/* Returns the snapshot of one thread, or NULL. */
const struct ft_thread_snapshot *
snapshot_thread(const struct ft_snapshot *snapshot, pid_t tid);

void snapshot_free(struct ft_snapshot *snapshot);

#endif

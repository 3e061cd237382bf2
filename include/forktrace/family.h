/*
 * The family model: every process and thread that forktrace has seen, with
 * their parent links, programs and ends.
 *
 * The model is fed events in the order the tracer emits them and keeps all
 * records until family_free(), so the tree at the end covers every member,
 * including those whose pid the kernel has reused since.
 */
#ifndef FORKTRACE_FAMILY_H
#define FORKTRACE_FAMILY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "forktrace/event.h"

enum ft_origin {
	FT_ORIGIN_ROOT, /* launched by forktrace */
	FT_ORIGIN_FORK,
	FT_ORIGIN_VFORK,
	FT_ORIGIN_ATTACHED, /* already running when forktrace attached */
};

/* A program that a process ran: one per exec. */
struct ft_program {
	uint64_t time_ns;
	char *path;
	char *comm;
	char *args; /* NUL-separated argv */
	size_t args_len;
	struct ft_program *next;
};

struct ft_thread {
	pid_t tid;
	uint64_t start_ns;
	uint64_t end_ns;
	bool ended;
	int status; /* wait status, valid when ended */
	struct ft_thread *next;
};

struct ft_process {
	pid_t pid;
	pid_t ppid; /* the parent's pid; for a root, its real parent's */
	enum ft_origin origin;
	struct ft_process *parent; /* the process that created it, or NULL */
	struct ft_process *first_child;
	struct ft_process *last_child;
	struct ft_process *next_sibling;
	unsigned depth; /* 0 for a root */

	uint64_t start_ns;
	uint64_t end_ns; /* the end, or when forktrace let go of it */
	bool ended;
	bool detached;
	bool stopped; /* in a group stop */
	bool paused; /* handed over to a debugger */
	bool lost; /* ended while forktrace was not tracing it */
	/*
	 * An end reported only by the SIGCHLD to its parent: ended and status
	 * are set, though forktrace was not tracing it then
	 */
	bool ended_untraced;
	bool found_ended; /* found a zombie: lifetime and program unknown */
	char found_comm[16]; /* its comm then, where program is NULL */
	int status; /* wait status, valid when ended */
	int last_signo; /* the last signal delivered to it */
	bool has_fatal_sender; /* fatal_sender sent the signal that killed it */
	pid_t fatal_sender;
	bool hung; /* reported by the hang detector */
	bool deadlocked; /* and found deadlocked */
	const char *hang_cause; /* the report's cause, when hung */

	/*
	 * The program the process runs: its last exec, or for a process
	 * that has not exec'd, its parent's program at the fork.
	 */
	const struct ft_program *program;
	struct ft_program *programs; /* its own execs, oldest first */
	struct ft_program *last_program;

	struct ft_thread *threads; /* threads other than the leader */
	struct ft_thread *last_thread;
	unsigned thread_count;
	unsigned live_threads;
};

struct ft_family;

struct ft_family *family_new(void);
void family_free(struct ft_family *family);

/*
 * Adds a root process, one that has no parent in the family.  comm may be
 * NULL until the process's first exec names it.  Returns the new record.
 */
struct ft_process *family_add_root(struct ft_family *family, pid_t pid,
				   enum ft_origin origin, uint64_t time_ns);

/*
 * Applies an event to the model.  Returns false when the event changes
 * nothing the user would see (a second thread reporting the same group
 * stop, an event for a pid that is not in the family), so that the outputs
 * can skip it.
 */
bool family_apply(struct ft_family *family, const struct ft_event *event);

/* Returns the live process with this pid, or NULL. */
struct ft_process *family_process(const struct ft_family *family, pid_t pid);

/*
 * Returns the latest record of a process with this pid, live or ended, or
 * NULL.  It looks at every record, so it is for rare paths.
 */
struct ft_process *family_find_any(const struct ft_family *family, pid_t pid);

/* Returns the live process that the thread tid belongs to, or NULL. */
struct ft_process *family_thread_process(const struct ft_family *family,
					 pid_t tid);

/* Calls fn for each live process, which fn may not add or remove. */
void family_each_live(const struct ft_family *family,
		      void (*fn)(pid_t, void *, void *), void *data);

/* Returns the first root; the others follow through next_sibling. */
struct ft_process *family_roots(const struct ft_family *family);

unsigned family_process_count(const struct ft_family *family);
unsigned family_thread_count(const struct ft_family *family);
unsigned family_live_process_count(const struct ft_family *family);

/* Returns the short name of the process's program, or "?" if unknown. */
const char *process_comm(const struct ft_process *process);

#endif

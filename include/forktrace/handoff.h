/*
 * Handing paused children to a debugger and taking them back.
 *
 * A paused child is detached in a group stop, so that any ptrace debugger
 * can attach to it.  forktrace then watches it through /proc: a debugger's
 * attach shows as a TracerPid, its detach as TracerPid 0 again, and a
 * SIGCONT without a debugger as the end of the stop.
 */
#ifndef FORKTRACE_HANDOFF_H
#define FORKTRACE_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Splits a command line into words as a shell would, without expanding
 * anything: words are separated by blanks, and single quotes, double
 * quotes and backslashes quote.  Returns a NULL-terminated vector of new
 * strings (free it with handoff_free_words()), or NULL with a message in
 * why when the quotes do not close or the line has no word.
 */
char **handoff_split_words(const char *line, const char **why);

void handoff_free_words(char **words);

/*
 * Returns a new vector: words with "{pid}", "{ppid}" and "{comm}" replaced
 * inside each word.  A replacement never splits or joins words, whatever
 * bytes comm contains.
 */
char **handoff_substitute(char *const *words, pid_t pid, pid_t ppid,
			  const char *comm);

/*
 * Starts argv without a shell and without waiting for it, with stdin from
 * /dev/null.  Returns its pid, or -1 with errno set.
 */
pid_t handoff_spawn(char *const *argv);

/*
 * Writes the command that attaches gdb to a paused child so that one
 * `continue` runs it on.  forktrace sends the child a SIGCONT once the
 * debugger is attached, which ends the group stop, and the command sets
 * gdb not to stop for that SIGCONT.
 */
void handoff_gdb_command(pid_t pid, char *buf, size_t size);

/* The state of a handed-over child, as /proc shows it. */
struct handoff_state {
	bool gone; /* the process no longer exists */
	bool stopped; /* in a group stop (state T) */
	pid_t tracer; /* TracerPid, or 0 */
	char tracer_comm[16];
};

/* Reads the state of pid from /proc.  Returns 0 or -errno. */
int handoff_read_state(pid_t pid, struct handoff_state *state);

#endif

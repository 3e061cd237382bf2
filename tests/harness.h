/*
 * Helpers for the integration tests: run forktrace on a real command with
 * --json, bounded in time, and look up what it reported.
 */
#ifndef FORKTRACE_TESTS_HARNESS_H
#define FORKTRACE_TESTS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Seconds that one traced command may take before the test kills it. */
#define TRACE_TIMEOUT 120

/*
 * When the environment variable FT_TEST_WRAPPER is set, every function
 * here that starts forktrace runs "$FT_TEST_WRAPPER forktrace ..." instead,
 * the value split at blanks (no quoting), at most this many words, and
 * looked up in PATH.  'make check-valgrind' sets it to run valgrind.
 */
#define FT_WRAPPER_MAX_WORDS 32

/*
 * Returns true when FT_TEST_WRAPPER is set.  The few checks that a
 * wrapper changes (forktrace's comm, system calls that valgrind does not
 * implement) are skipped then, each with its reason.
 */
bool forktrace_wrapped(void);

struct trace_result {
	int exit_code; /* forktrace's exit code, or -1 if a signal killed it */
	int signal; /* the signal that killed forktrace, or 0 */
	bool timed_out;
	json_t **events; /* every JSON line, the summary included */
	size_t count;
	json_t *summary; /* the last line if it is the summary, or NULL */
	char *out; /* what forktrace and the family wrote to stdout */
	char *err; /* what they wrote to stderr */
};

/* Returns the path of an example program built by make. */
const char *example_path(const char *name);

/* Returns the path of a file in the source tree. */
const char *source_path(const char *relative);

/* Returns a new temporary directory for the test, removed at exit. */
const char *test_tmpdir(void);

/*
 * Runs "forktrace --json -o FILE OPTIONS... -- COMMAND..." with stdin from
 * /dev/null, in a process group of its own that is killed after
 * TRACE_TIMEOUT seconds.  options and command are NULL-terminated; options
 * may be NULL.  env, when not NULL, contains "NAME=VALUE" strings added to
 * the environment.  Returns 0, or -1 when forktrace could not be started.
 */
int trace_run_env(struct trace_result *result, const char *const *options,
		  const char *const *command, const char *const *env);
int trace_run(struct trace_result *result, const char *const *options,
	      const char *const *command);

/*
 * Runs forktrace with exactly these arguments (no --json), capturing its
 * output, with the same bounds as trace_run().
 */
int forktrace_run(struct trace_result *result, const char *const *args);

/* Runs a command untraced, with the same bounds; exit code as above. */
int plain_run(struct trace_result *result, const char *const *command);

void trace_result_free(struct trace_result *result);

/*
 * A trace that the test watches while it runs: forktrace writes its JSON
 * lines to a FIFO, and the test reads them as they come.
 */
struct live_trace {
	pid_t pid; /* forktrace, leader of its own process group */
	int fd; /* the FIFO's read end */
	char *buf; /* lines not parsed yet, grown as needed */
	size_t capacity;
	size_t len;
	struct trace_result result;
	int tty; /* the pseudo-terminal's master, or -1 */
	char *tty_text; /* what the terminal showed so far, NUL-terminated */
	size_t tty_len;
};

/* Starts forktrace --json -o FIFO OPTIONS... -- COMMAND.  Returns 0 or -1. */
int live_trace_start(struct live_trace *live, const char *const *options,
		     const char *const *command);

/*
 * The same, with forktrace and the family on a new pseudo-terminal, in
 * its foreground process group, and their output going to it.  The test
 * writes keys to live->tty.
 */
int live_trace_start_tty(struct live_trace *live, const char *const *options,
			 const char *const *command);

/*
 * Reads events until one of this kind whose comm is comm (NULL: any)
 * arrives, for at most TRACE_TIMEOUT seconds.  Returns it (owned by
 * live->result) or NULL.
 */
json_t *live_trace_next(struct live_trace *live, const char *event,
			const char *comm);

/*
 * Reads the events that are ready, without waiting, so that forktrace
 * never blocks on a full FIFO while the test waits for something else.
 */
void live_trace_pump(struct live_trace *live);

/*
 * Reads the pseudo-terminal of live_trace_start_tty() until it has shown
 * text, for at most TRACE_TIMEOUT seconds.  Returns true when it has.
 */
bool live_tty_wait_for(struct live_trace *live, const char *text);

/*
 * Reads the remaining events and waits for forktrace, bounded in time.
 * On a pseudo-terminal, result.err is all that the terminal showed.
 */
void live_trace_finish(struct live_trace *live);

/*
 * Waits up to TRACE_TIMEOUT seconds for a process that is not the test's
 * child to end.  Returns true when it ended.
 */
bool wait_for_process_end(pid_t pid);

/* Returns the file at path as a new string; "" when it cannot be read. */
char *read_whole_file(const char *path);

/* Returns the state letter of /proc/PID/stat ('S', 'T', 't', ...) or 0. */
char process_state(pid_t pid);

/* Returns the nth (from 0) event of this kind for pid (0: any pid). */
json_t *trace_event(const struct trace_result *result, const char *event,
		    pid_t pid, size_t nth);

/* Counts the events of this kind for pid (0: any pid). */
size_t trace_count(const struct trace_result *result, const char *event,
		   pid_t pid);

/* Returns the pid of the first root of the summary's tree, or 0. */
pid_t trace_root_pid(const struct trace_result *result);

/* Returns the summary's record of process pid, or NULL. */
json_t *trace_process(const struct trace_result *result, pid_t pid);

/* Returns the number of processes in the summary's tree. */
size_t trace_process_count(const struct trace_result *result);

/* Integer field of an object, or -1 when it is missing. */
long json_int(const json_t *object, const char *key);

/* String field of an object, or NULL when it is missing. */
const char *json_str(const json_t *object, const char *key);

/* Returns the basename of the program in a summary process record. */
const char *process_program(const json_t *process);

/*
 * Returns the line of the marker comment "site: NAME" in a source file of
 * the tree, or -1.
 */
int marker_line(const char *relative_path, const char *name);

#endif

/*
 * Readers of /proc.  The parsers take a buffer, so that tests can feed them
 * any bytes; the readers open the files.
 */
#ifndef FORKTRACE_PROCFS_H
#define FORKTRACE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Reads a whole file into a new NUL-terminated buffer (*data, *len without
 * the NUL).  Returns 0, or -errno with *data set to NULL.
 */
int procfs_read_file(const char *path, char **data, size_t *len);

/* Reads the target of /proc/PID/exe.  Returns 0 or -errno. */
int procfs_read_exe(pid_t pid, char **path);

/* Reads /proc/PID/comm without its newline.  Returns 0 or -errno. */
int procfs_read_comm(pid_t pid, char comm[16]);

/* Reads /proc/PID/cmdline.  Returns 0 or -errno. */
int procfs_read_cmdline(pid_t pid, char **args, size_t *len);

/* The program a process runs, as /proc shows it. */
struct procfs_program {
	char *path; /* the target of /proc/PID/exe, or NULL */
	char comm[16];
	char *args; /* /proc/PID/cmdline: NUL-separated, or NULL */
	size_t args_len;
};

/* Reads exe, comm and cmdline of pid; a part that fails stays empty. */
void procfs_read_program(pid_t pid, struct procfs_program *program);
void procfs_program_free(struct procfs_program *program);

/*
 * Finds "KEY:\tVALUE" in the text of a /proc status file and parses VALUE
 * as a decimal number.  Returns true and sets *value on success.
 */
bool procfs_status_field(const char *text, size_t len, const char *key,
			 long *value);

/* Reads one numeric field of /proc/PID/status.  Returns 0 or -errno. */
int procfs_read_status_field(pid_t pid, const char *key, long *value);

/*
 * Returns true when tid is a thread of the process tgid.  tgid must be a
 * process id: /proc/TID of a non-leader thread is a hidden alias of its
 * whole process, so a thread id in its place gives true for its group.
 */
bool procfs_is_thread_of(pid_t tgid, pid_t tid);

/*
 * Returns true when thread tid has ended and waits to be reaped (state Z
 * or X in /proc/TID/task/TID/stat).
 */
bool procfs_is_zombie(pid_t tid);

/*
 * Reads a zombie's wait status, the exit_code field (the 52nd) of the
 * text of /proc/PID/stat, into status.  Returns 0, or -1 when the text
 * has no such field.
 */
int procfs_parse_exit_code(const char *stat, int *status);

/* The same, read from /proc/PID/stat */
int procfs_read_exit_code(pid_t pid, int *status);

#endif

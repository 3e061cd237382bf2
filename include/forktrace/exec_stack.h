/*
 * The program a process has just exec'd, read from its new stack at the
 * PTRACE_EVENT_EXEC stop instead of from /proc.
 */
#ifndef FORKTRACE_EXEC_STACK_H
#define FORKTRACE_EXEC_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "forktrace/procfs.h"

/* The places of the arguments and the file name on a new program's stack. */
struct exec_stack {
	size_t argc;
	size_t argv_index; /* the index of the 64-bit word of argv[0]'s pointer
			    */
	uint64_t args_start; /* the first byte of argv[0] */
	uint64_t args_end; /* one past the NUL of the last argument */
	uint64_t execfn; /* AT_EXECFN: the file name given to execve() */
};

/*
 * Parses the words at the top of a new program's stack: argc, the argv and
 * envp pointers and the auxiliary vector.  stack contains len bytes read at
 * address sp.  Returns 1 with *layout set, 0 when len is too short to hold
 * all the words, and -1 when they are not laid out as the kernel lays them.
 */
int exec_stack_parse(const void *stack, size_t len, uint64_t sp,
		     struct exec_stack *layout);

/*
 * Returns true when args, the bytes from layout->args_start to
 * layout->args_end, are exactly the strings that the argv pointers in stack
 * point to, one after the other.
 */
bool exec_stack_args_match(const void *stack, const struct exec_stack *layout,
			   const char *args);

/*
 * Sets comm to what the kernel names a process that exec'd the file name
 * execfn: its base name, cut to 15 bytes, as /proc/PID/comm shows it.
 * Returns false for a name under /dev/fd/, which fexecve() and execveat()
 * with a descriptor use, since the kernel then takes the name elsewhere.
 */
bool exec_stack_comm(const char *execfn, char comm[16]);

/*
 * Reads exe from /proc and argv and comm from the stack of pid, which must
 * be in its PTRACE_EVENT_EXEC stop.  Falls back to /proc for argv and comm
 * when the stack cannot be read or parsed.  Returns true when the stack
 * gave argv.
 */
bool exec_stack_read_program(pid_t pid, struct procfs_program *program);

#endif

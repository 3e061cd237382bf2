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
	uint64_t random; /* AT_RANDOM: 16 random bytes, or 0 */
};

/*
 * The marks that distinguish the exe link of the program read at the stop
 * from a later program's link.  The kernel draws the 16 bytes at AT_RANDOM
 * anew for each exec.  The file name given to execve() stays at its
 * address even in a program that clears those bytes, as the Go runtime
 * does.
 */
struct exec_mark {
	uint64_t random_addr; /* 0 when exe was read at the stop */
	unsigned char random[16];
	uint64_t execfn_addr; /* AT_EXECFN */
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
 * Reads argv and comm from the stack of pid, which must be in its
 * PTRACE_EVENT_EXEC stop, and sets program->path to the file name given to
 * execve().  The exe link is left to exec_stack_read_exe(), which may run
 * once the thread runs again; *mark is what it checks then.  When the
 * stack cannot be read or parsed, all of it comes from /proc at once.
 * Returns true when the stack gave argv.
 */
bool exec_stack_read_program(pid_t pid, struct procfs_program *program,
			     struct exec_mark *mark);

/*
 * Replaces program->path with the target of pid's exe link, when the link
 * still belongs to the program that exec_stack_read_program() read: pid is
 * still stopped, or its address space still contains the AT_RANDOM bytes or
 * the file name of mark.  A thread that has exec'd again or ended keeps
 * the file name given to execve().
 */
void exec_stack_read_exe(pid_t pid, struct procfs_program *program,
			 const struct exec_mark *mark, bool stopped);

#endif

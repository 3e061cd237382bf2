/*
 * Reads a new program's arguments and name from its stack at the exec
 * stop.
 *
 * There the stack pointer points at argc, followed by the argv pointers, a
 * NULL, the envp pointers, a NULL and the auxiliary vector.  Above those
 * the kernel copied the argument strings, then the environment strings,
 * then the file name given to execve(), which AT_EXECFN points to.
 * /proc/PID/cmdline shows the bytes from argv[0] to the NUL of the last
 * argument, and the kernel sets comm to the base name of that file name.
 * One process_vm_readv() of the stack's top gives the same bytes where
 * /proc takes three opens, and an exec is the most frequent stop that
 * reads anything.
 *
 * The exe link still needs /proc, and a path walk there costs more than
 * the rest of the stop.  It can wait until the program runs, because the
 * link changes only with the address space.  The kernel draws 16 new
 * AT_RANDOM bytes for each exec: when they are still at their address
 * after the link is read, the link was this program's.
 *
 * A program that cleared those bytes is recognized by the file name at
 * AT_EXECFN instead.  In practice a later program has its file name at the
 * same address only when the stack is not randomized and the two names
 * have the same length.  Then the same name is the same file, unless it
 * was renamed, or the directory changed, within those microseconds.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "forktrace/exec_stack.h"
#include "forktrace/xmalloc.h"

/* The first read of the stack's top, enough for argv and a usual environment */
#define FIRST_READ_BYTES 16384u
/* The maximum read of the stack's top; a longer one falls back to /proc */
#define MAX_READ_BYTES (16u << 20)
/* The maximum length of a file name that execve() accepts (PATH_MAX) */
#define EXECFN_MAX	4096u
#define PAGE_BYTES	4096u
#define PIECES_PER_CALL 256u

int
exec_stack_parse(const void *stack, size_t len, uint64_t sp,
		 struct exec_stack *layout)
{
	const uint64_t *word = stack;
	size_t count = len / sizeof(*word), i, envp, envc;
	uint64_t argc, execfn = 0, random = 0, strings;

	if (count < 2)
		return 0;
	argc = word[0];
	if (argc == 0)
		return -1;
	if (argc > count - 2)
		return 0;
	if (word[1 + argc] != 0)
		return -1;
	envp = 2 + argc;
	for (i = envp; i < count && word[i]; i++)
		;
	if (i >= count)
		return 0;
	envc = i - envp;
	for (i++;; i += 2) {
		if (i + 1 >= count)
			return 0;
		if (word[i] == AT_NULL)
			break;
		if (word[i] == AT_EXECFN)
			execfn = word[i + 1];
		if (word[i] == AT_RANDOM)
			random = word[i + 1];
	}
	strings = sp + (i + 2) * sizeof(*word);

	layout->argc = argc;
	layout->argv_index = 1;
	layout->args_start = word[1];
	layout->args_end = envc ? word[envp] : execfn;
	layout->execfn = execfn;
	layout->random = random;
	if (!execfn || layout->args_start < strings ||
	    layout->args_end <= layout->args_start ||
	    execfn < layout->args_end ||
	    layout->args_end - layout->args_start > MAX_READ_BYTES)
		return -1;
	return 1;
}

bool
exec_stack_args_match(const void *stack, const struct exec_stack *layout,
		      const char *args)
{
	const uint64_t *argv = (const uint64_t *)stack + layout->argv_index;
	size_t len = layout->args_end - layout->args_start, at = 0, i;

	for (i = 0; i < layout->argc; i++) {
		const char *nul;

		if (at >= len || argv[i] != layout->args_start + at)
			return false;
		nul = memchr(args + at, '\0', len - at);
		if (!nul)
			return false;
		at = (size_t)(nul - args) + 1;
	}
	return at == len;
}

bool
exec_stack_comm(const char *execfn, char comm[16])
{
	const char *slash = strrchr(execfn, '/');
	const char *base = slash ? slash + 1 : execfn;
	size_t len = strnlen(base, 15);

	if (!strncmp(execfn, "/dev/fd/", 8))
		return false;
	memcpy(comm, base, len);
	comm[len] = '\0';
	/*
	 * /proc/PID/comm ends with a newline that procfs_read_comm() drops,
	 * and it reads 15 bytes: a 15-byte name's own last newline goes too.
	 */
	if (len == 15 && comm[14] == '\n')
		comm[14] = '\0';
	return true;
}

/*
 * Reads len bytes at addr of pid into buf, in pieces that end at page
 * boundaries, so that the read stops at the first unmapped page.  Returns
 * the number of bytes read.
 */
static size_t
read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec remote[PIECES_PER_CALL];
	size_t done = 0;

	while (done < len) {
		struct iovec local = { (char *)buf + done, 0 };
		uint64_t at = addr + done;
		size_t pieces = 0;
		ssize_t n;

		while (pieces < PIECES_PER_CALL && done + local.iov_len < len) {
			size_t piece = PAGE_BYTES - (size_t)(at % PAGE_BYTES);

			if (piece > len - done - local.iov_len)
				piece = len - done - local.iov_len;
			remote[pieces].iov_base = (void *)(uintptr_t)at;
			remote[pieces++].iov_len = piece;
			local.iov_len += piece;
			at += piece;
		}
		n = process_vm_readv(pid, &local, 1, remote, pieces, 0);
		if (n <= 0)
			break;
		done += (size_t)n;
		if ((size_t)n < local.iov_len)
			break;
	}
	return done;
}

/* Reads the stack pointer of a stopped 64-bit thread. */
static int
read_stack_pointer(pid_t pid, uint64_t *sp)
{
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
	struct user_regs_struct regs;
#else
	struct user_pt_regs regs;
#endif
	struct iovec iov = { &regs, sizeof(regs) };

	/* A 32-bit process returns a shorter set, and its words differ. */
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0 ||
	    iov.iov_len != sizeof(regs))
		return -1;
#if defined(__x86_64__)
	*sp = regs.rsp;
#else
	*sp = regs.sp;
#endif
	return 0;
#else
	(void)pid;
	(void)sp;
	return -1;
#endif
}

/*
 * Reads the top of the stack of pid until the copy contains every pointer of
 * the layout.  Returns the bytes in *stack and their number, or 0.
 */
static size_t
read_stack_top(pid_t pid, uint64_t sp, void **stack, struct exec_stack *layout)
{
	size_t want = FIRST_READ_BYTES, got;
	int parsed;

	for (;;) {
		*stack = xmalloc(want);
		got = read_remote(pid, sp, *stack, want);
		parsed = exec_stack_parse(*stack, got, sp, layout);
		if (parsed > 0)
			return got;
		free(*stack);
		*stack = NULL;
		/* A short read ended at the stack's end: more cannot help. */
		if (parsed < 0 || got < want || want >= MAX_READ_BYTES)
			return 0;
		want *= 4;
	}
}

/* Returns a copy of the len bytes at addr, from stack or read anew. */
static char *
copy_remote(pid_t pid, const void *stack, size_t stack_len, uint64_t sp,
	    uint64_t addr, size_t len, size_t *got)
{
	char *copy = xmalloc(len + 1);

	if (addr >= sp && addr - sp <= stack_len &&
	    len <= stack_len - (addr - sp)) {
		memcpy(copy, (const char *)stack + (addr - sp), len);
		*got = len;
	} else {
		*got = read_remote(pid, addr, copy, len);
	}
	copy[*got] = '\0';
	return copy;
}

/*
 * Sets *mark from the copy of the stack when the copy contains the
 * AT_RANDOM bytes.  Otherwise *mark stays unset, so exe is read at the stop.
 */
static void
set_mark(const void *stack, size_t stack_len, uint64_t sp,
	 const struct exec_stack *layout, struct exec_mark *mark)
{
	uint64_t at = layout->random;

	if (at < sp || at - sp > stack_len ||
	    stack_len - (at - sp) < sizeof(mark->random))
		return;
	mark->random_addr = at;
	memcpy(mark->random, (const char *)stack + (at - sp),
	       sizeof(mark->random));
	mark->execfn_addr = layout->execfn;
}

/*
 * Returns true when the address space of pid still contains the AT_RANDOM
 * bytes of mark, or execfn as the file name at AT_EXECFN.
 */
static bool
mark_matches(pid_t pid, const struct exec_mark *mark, const char *execfn)
{
	unsigned char random[sizeof(mark->random)];
	size_t len = strlen(execfn) + 1;
	char *name;
	bool same;

	if (read_remote(pid, mark->random_addr, random, sizeof(random)) ==
		    sizeof(random) &&
	    !memcmp(random, mark->random, sizeof(random)))
		return true;
	name = xmalloc(len);
	same = read_remote(pid, mark->execfn_addr, name, len) == len &&
	       !memcmp(name, execfn, len);
	free(name);
	return same;
}

/*
 * Fills program's args and comm from the stack, its path with the file
 * name given to execve(), and *mark.  Returns false when the stack cannot
 * be read or parsed.
 */
static bool
read_from_stack(pid_t pid, struct procfs_program *program,
		struct exec_mark *mark)
{
	struct exec_stack layout;
	size_t stack_len, args_len, got;
	char *args, *execfn;
	void *stack;
	uint64_t sp;
	bool named;

	if (read_stack_pointer(pid, &sp) < 0)
		return false;
	stack_len = read_stack_top(pid, sp, &stack, &layout);
	if (!stack_len)
		return false;
	args_len = layout.args_end - layout.args_start;
	args = copy_remote(pid, stack, stack_len, sp, layout.args_start,
			   args_len, &got);
	if (got != args_len || !exec_stack_args_match(stack, &layout, args)) {
		free(args);
		free(stack);
		return false;
	}
	/* The file name is usually in the first read, a page or so above. */
	if (layout.execfn - sp < stack_len &&
	    memchr((char *)stack + (layout.execfn - sp), '\0',
		   stack_len - (layout.execfn - sp)))
		execfn = copy_remote(
			pid, stack, stack_len, sp, layout.execfn,
			strlen((char *)stack + (layout.execfn - sp)) + 1, &got);
	else
		execfn = copy_remote(pid, stack, stack_len, sp, layout.execfn,
				     EXECFN_MAX, &got);
	/* A file name that ends past the stack's end was cut short. */
	named = memchr(execfn, '\0', got) &&
		exec_stack_comm(execfn, program->comm);
	if (!named && procfs_read_comm(pid, program->comm) < 0)
		program->comm[0] = '\0';
	set_mark(stack, stack_len, sp, &layout, mark);
	program->path = execfn;
	free(stack);
	program->args = args;
	program->args_len = args_len;
	return true;
}

/*
 * Replaces program->path, the file name given to execve(), with the target
 * of pid's exe link, unless the link cannot be read, or check is given and
 * no longer matches.
 */
static void
take_exe(pid_t pid, struct procfs_program *program,
	 const struct exec_mark *check)
{
	char *exe;

	if (procfs_read_exe(pid, &exe) < 0)
		return;
	if (check && !mark_matches(pid, check, program->path)) {
		free(exe);
		return;
	}
	free(program->path);
	program->path = exe;
}

bool
exec_stack_read_program(pid_t pid, struct procfs_program *program,
			struct exec_mark *mark)
{
	program->path = NULL;
	program->args = NULL;
	program->args_len = 0;
	program->comm[0] = '\0';
	mark->random_addr = 0;
	if (!read_from_stack(pid, program, mark)) {
		procfs_read_program(pid, program);
		return false;
	}
	/* Without the bytes to check it later, exe is read at the stop. */
	if (!mark->random_addr)
		take_exe(pid, program, NULL);
	return true;
}

void
exec_stack_read_exe(pid_t pid, struct procfs_program *program,
		    const struct exec_mark *mark, bool stopped)
{
	/* Without a mark, exe was read at the stop already. */
	if (mark->random_addr)
		take_exe(pid, program, stopped ? NULL : mark);
}

/*
 * The cheapest tracer that follows a family the way forktrace does: the
 * benchmarks' floor.
 *
 * usage: floor [--reads] PROG [ARGS...]
 *
 * It seizes PROG with the fork, vfork, clone, exec and exit options, so
 * the kernel stops each member at the same events as under forktrace.  It
 * reads each new child's pid, passes every signal on, and keeps group
 * stops with PTRACE_LISTEN.  It prints nothing and exits with PROG's
 * status (128 + N for a signal), so any cost above it is what a tracer
 * adds to the bare ptrace stops.
 *
 * --reads adds the reads that forktrace --stacks=none makes to report
 * what it reports, at the same moments, and nothing else: at an exec
 * stop, the registers and the top of the new stack before the program
 * runs on, and its exe link and 16 bytes of its stack after; at a clone,
 * a pidfd_open() that checks whether the child is a thread; at a
 * signal-delivery stop, the signal's siginfo (the exec reads on x86_64
 * only).  The cost above the floor with --reads is then what forktrace's
 * own work adds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <elf.h>

#define PROG_NAME "floor"
#include "launch.h"

#define OPTIONS                                                           \
	(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT)

/* The bytes of a new stack that an exec stop reads, as forktrace does */
#define STACK_READ_BYTES 16384u
#define PAGE_BYTES	 4096u

static int with_reads;

/*
 * Copies the top of tid's new stack, in pieces that end at page
 * boundaries so that the copy stops at the stack's end.  Returns its
 * stack pointer, or 0.
 */
static unsigned long long
read_stack_top(pid_t tid)
{
#if defined(__x86_64__)
	static char copy[STACK_READ_BYTES];
	struct iovec remote[STACK_READ_BYTES / PAGE_BYTES + 1];
	struct iovec local = { copy, STACK_READ_BYTES };
	struct user_regs_struct regs;
	struct iovec iov = { &regs, sizeof(regs) };
	unsigned long long at, left = STACK_READ_BYTES;
	size_t pieces = 0;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
		return 0;
	for (at = regs.rsp; left; pieces++) {
		unsigned long long piece = PAGE_BYTES - at % PAGE_BYTES;

		if (piece > left)
			piece = left;
		remote[pieces].iov_base = (void *)(uintptr_t)at;
		remote[pieces].iov_len = piece;
		at += piece;
		left -= piece;
	}
	process_vm_readv(tid, &local, 1, remote, pieces, 0);
	return regs.rsp;
#else
	(void)tid;
	return 0; /* the reads are measured on x86_64 only */
#endif
}

/* Reads the exe link of a running tid and 16 bytes of its stack at sp. */
static void
read_exe(pid_t tid, unsigned long long sp)
{
	char link[64], target[4096], bytes[16];
	struct iovec local = { bytes, sizeof(bytes) };
	struct iovec remote = { (void *)(uintptr_t)sp, sizeof(bytes) };

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)tid);
	if (readlink(link, target, sizeof(target)) > 0)
		process_vm_readv(tid, &local, 1, &remote, 1, 0);
}

static int
is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* Resumes a thread from the stop that status describes. */
static void
resume(pid_t tid, int status)
{
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	unsigned long long sp = 0;
	unsigned long child;
	siginfo_t si;

	if (event == PTRACE_EVENT_STOP) {
		/* A group stop stays one; a new child's first stop does not. */
		if (is_stop_signal(sig))
			ptrace(PTRACE_LISTEN, tid, 0L, 0L);
		else
			ptrace(PTRACE_CONT, tid, 0L, 0L);
		return;
	}
	if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
	    event == PTRACE_EVENT_CLONE)
		ptrace(PTRACE_GETEVENTMSG, tid, 0L, &child);
	if (with_reads && event == PTRACE_EVENT_CLONE) {
		int fd = (int)syscall(SYS_pidfd_open, (pid_t)child, 0);

		if (fd >= 0)
			close(fd);
	}
	if (with_reads && event == PTRACE_EVENT_EXEC)
		sp = read_stack_top(tid);
	if (with_reads && !event)
		ptrace(PTRACE_GETSIGINFO, tid, 0L, &si);
	/* A signal-delivery stop passes its signal on; an event stop none. */
	ptrace(PTRACE_CONT, tid, 0L, event ? 0L : (long)sig);
	if (sp)
		read_exe(tid, sp);
}

int
main(int argc, char **argv)
{
	int status, code = 0;
	pid_t root, tid;

	if (argc > 1 && !strcmp(argv[1], "--reads")) {
		with_reads = 1;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: floor [--reads] PROG [ARGS...]\n");
		return 2;
	}
	root = launch_seized(argv + 1, OPTIONS);
	for (;;) {
		tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			die("waitpid");
		}
		if (WIFSTOPPED(status))
			resume(tid, status);
		else if (tid == root && WIFEXITED(status))
			code = WEXITSTATUS(status);
		else if (tid == root && WIFSIGNALED(status))
			code = 128 + WTERMSIG(status);
	}
	return code;
}

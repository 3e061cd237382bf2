/*
 * Fuzz target for wait_decode(), which decodes a blocked system call and
 * reads the futex words, poll sets and clone3() arguments it points to.
 * The input is a system call number, its six arguments, and then the
 * thread's memory, mapped at address 0 up to the end of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "forktrace/hang.h"
#include "forktrace/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct memory {
	const uint8_t *bytes;
	size_t len;
};

static bool
read_input_memory(pid_t tid, uint64_t addr, void *buf, size_t len, void *data)
{
	const struct memory *memory = data;

	(void)tid;
	if (addr > memory->len || len > memory->len - addr)
		return false;
	memcpy(buf, memory->bytes + addr, len);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The calls that wait_decode() decodes, picked by the first byte. */
	static const long calls[] = {
		SYS_futex,	     SYS_futex_waitv, SYS_wait4,
		SYS_vfork,	     SYS_clone,	      SYS_clone3,
		SYS_waitid,	     SYS_read,	      SYS_recvmmsg,
		SYS_write,	     SYS_poll,	      SYS_ppoll,
		SYS_select,	     SYS_pselect6,    SYS_epoll_wait,
		SYS_epoll_pwait2,    SYS_accept4,     SYS_nanosleep,
		SYS_restart_syscall, SYS_pause,	      SYS_rt_sigtimedwait,
	};
	struct ft_thread_snapshot facts = { 0 };
	struct ft_wait wait;
	struct memory memory;
	uint8_t *copy;
	size_t header = 1 + sizeof(facts.syscall_args);

	if (size < header)
		return 0;
	facts.tid = 1;
	facts.pid = 1;
	facts.in_syscall = true;
	facts.syscall_nr = calls[data[0] % (sizeof(calls) / sizeof(calls[0]))];
	memcpy(facts.syscall_args, data + 1, sizeof(facts.syscall_args));
	copy = malloc(size - header ? size - header : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + header, size - header);
	memory.bytes = copy;
	memory.len = size - header;

	wait_decode(&facts, &wait, read_input_memory, &memory);
	if (wait.fd_count > FT_WAIT_FDS_MAX)
		abort();
	wait_kind_name(wait.kind);
	wait_decode(&facts, &wait, NULL, NULL);
	free(copy);
	return 0;
}

/*
 * Decoding a blocked system call into what it waits for: the futex word
 * and a glibc mutex's owner, the descriptors of poll() and select(), the
 * children of wait4() and waitid(), and whether a timeout ends it.
 */
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "forktrace/hang.h"

/* futex(2) operations and flags, as in <linux/futex.h> */
#define OP_WAIT		   0
#define OP_LOCK_PI	   6
#define OP_WAIT_BITSET	   9
#define OP_WAIT_REQUEUE_PI 11
#define OP_LOCK_PI2	   13
#define OP_PRIVATE	   128
#define OP_CLOCK_REALTIME  256

/* The kinds of glibc's pthread mutexes and the bits that modify them */
#define MUTEX_KIND_BITS (3 | 16 | 32 | 64 | 128 | 256 | 512)
#define MUTEX_ROBUST	16

#define P_ALL_ID  0
#define P_PID_ID  1
#define P_PGID_ID 2

/* The start of glibc's struct __pthread_mutex_s on 64-bit Linux */
struct glibc_mutex {
	int lock;
	unsigned count;
	int owner;
	unsigned nusers;
	int kind;
};

const char *
wait_kind_name(enum ft_wait_kind kind)
{
	static const char *const names[] = {
		[FT_WAIT_NONE] = "none",     [FT_WAIT_FUTEX] = "futex",
		[FT_WAIT_CHILD] = "child",   [FT_WAIT_READ] = "read",
		[FT_WAIT_WRITE] = "write",   [FT_WAIT_POLL] = "poll",
		[FT_WAIT_ACCEPT] = "accept", [FT_WAIT_SLEEP] = "sleep",
		[FT_WAIT_SIGNAL] = "signal", [FT_WAIT_OTHER] = "other",
	};

	return names[kind];
}

static void
decode_futex(const struct ft_thread_snapshot *facts, struct ft_wait *wait,
	     ft_read_memory read_memory, void *data)
{
	const uint64_t *a = facts->syscall_args;
	unsigned op =
		(unsigned)a[1] & ~(unsigned)(OP_PRIVATE | OP_CLOCK_REALTIME);
	struct glibc_mutex mutex;

	if (op != OP_WAIT && op != OP_WAIT_BITSET && op != OP_LOCK_PI &&
	    op != OP_LOCK_PI2 && op != OP_WAIT_REQUEUE_PI) {
		wait->kind = FT_WAIT_OTHER; /* a wake or requeue: it returns */
		return;
	}
	wait->kind = FT_WAIT_FUTEX;
	wait->futex_addr = a[0];
	wait->futex_shared = !(a[1] & OP_PRIVATE);
	wait->timed = a[3] != 0;
	if (!read_memory ||
	    !read_memory(facts->tid, a[0], &mutex, sizeof(mutex), data))
		return;
	wait->futex_read = true;
	wait->futex_word = (uint32_t)mutex.lock;
	wait->futex_expected = (uint32_t)a[2];
	if (op == OP_LOCK_PI || op == OP_LOCK_PI2) {
		/* A priority-inheritance word holds its owner's tid. */
		wait->futex_mutex = true;
		wait->futex_owner =
			(pid_t)((unsigned)mutex.lock & FT_FUTEX_TID_MASK);
		return;
	}
	if (mutex.kind & ~MUTEX_KIND_BITS || mutex.owner <= 0)
		return;
	if (mutex.kind & MUTEX_ROBUST) {
		/* A robust mutex's word holds its owner's tid too. */
		if (((unsigned)mutex.lock & FT_FUTEX_TID_MASK) !=
		    (unsigned)mutex.owner)
			return;
	} else if (mutex.lock != 2 || a[2] != 2 || mutex.nusers == 0) {
		/* glibc's lock waits on the value 2: locked, with waiters. */
		return;
	}
	wait->futex_mutex = true;
	wait->futex_owner = mutex.owner;
}

static void
add_wait_fd(struct ft_wait *wait, int fd, bool write)
{
	if (wait->fd_count == FT_WAIT_FDS_MAX) {
		wait->fds_unknown = true;
		return;
	}
	wait->fds[wait->fd_count] = fd;
	wait->fd_write[wait->fd_count] = write;
	wait->fd_count++;
}

static void
decode_poll(const struct ft_thread_snapshot *facts, struct ft_wait *wait,
	    ft_read_memory read_memory, void *data)
{
	struct {
		int fd;
		short events;
		short revents;
	} fds[FT_WAIT_FDS_MAX];
	uint64_t count = facts->syscall_args[1], i;

	wait->kind = FT_WAIT_POLL;
	if (count > FT_WAIT_FDS_MAX) {
		wait->fds_unknown = true;
		return;
	}
	if (!count)
		return;
	if (!read_memory || !read_memory(facts->tid, facts->syscall_args[0],
					 fds, count * sizeof(fds[0]), data)) {
		wait->fds_unknown = true;
		return;
	}
	for (i = 0; i < count; i++) {
		if (fds[i].fd < 0)
			continue;
		/* POLLIN 0x1, POLLPRI 0x2, POLLOUT 0x4 */
		if (fds[i].events & 0x3)
			add_wait_fd(wait, fds[i].fd, false);
		if (fds[i].events & 0x4)
			add_wait_fd(wait, fds[i].fd, true);
	}
}

static void
decode_select(const struct ft_thread_snapshot *facts, struct ft_wait *wait,
	      ft_read_memory read_memory, void *data)
{
	uint64_t sets[2][16];
	/* The kernel takes nfds as an int, whatever the upper bits hold. */
	int count = (int)facts->syscall_args[0];
	size_t words, set, fd;

	wait->kind = FT_WAIT_POLL;
	if (count < 0 || count > 16 * 64 || !read_memory) {
		wait->fds_unknown = true;
		return;
	}
	words = ((size_t)count + 63) / 64;
	for (set = 0; set < 2; set++) {
		uint64_t addr = facts->syscall_args[1 + set];

		memset(sets[set], 0, sizeof(sets[set]));
		if (addr && words &&
		    !read_memory(facts->tid, addr, sets[set], words * 8,
				 data)) {
			wait->fds_unknown = true;
			return;
		}
		for (fd = 0; fd < (size_t)count; fd++)
			if (sets[set][fd / 64] >> (fd % 64) & 1)
				add_wait_fd(wait, (int)fd, set == 1);
	}
}

/* A vfork parent waits for whichever child it made to exec or exit. */
static void
set_vfork_wait(struct ft_wait *wait)
{
	wait->kind = FT_WAIT_CHILD;
	wait->child = -1;
	wait->vfork = true;
}

void
wait_decode(const struct ft_thread_snapshot *facts, struct ft_wait *wait,
	    ft_read_memory read_memory, void *data)
{
	const uint64_t *a = facts->syscall_args;
	uint64_t flags; /* clone3()'s, the first field of struct clone_args */

	memset(wait, 0, sizeof(*wait));
	wait->epoll_fd = -1;
	if (!facts->in_syscall)
		return;
	wait->kind = FT_WAIT_OTHER;
	switch (facts->syscall_nr) {
#if defined(__x86_64__)
	case SYS_futex:
		decode_futex(facts, wait, read_memory, data);
		break;
	case SYS_futex_waitv:
		wait->kind = FT_WAIT_FUTEX;
		wait->futex_shared = true; /* each waiter has its own flags */
		wait->timed = a[3] != 0;
		break;
	case SYS_wait4:
		wait->kind = FT_WAIT_CHILD;
		wait->child = (pid_t)a[0];
		break;
	case SYS_vfork:
		set_vfork_wait(wait);
		break;
	case SYS_clone:
		if (a[0] & CLONE_VFORK)
			set_vfork_wait(wait);
		break;
	case SYS_clone3:
		if (read_memory &&
		    read_memory(facts->tid, a[0], &flags, sizeof(flags),
				data) &&
		    (flags & CLONE_VFORK))
			set_vfork_wait(wait);
		break;
	case SYS_waitid:
		wait->kind = FT_WAIT_CHILD;
		if (a[0] == P_PID_ID)
			wait->child = (pid_t)a[1];
		else if (a[0] == P_PGID_ID)
			/* 0 is its own group; a negative group fails. */
			wait->child = (pid_t)a[1] > 0 ? -(pid_t)a[1] : 0;
		else
			wait->child = -1; /* any child, or a pidfd's */
		break;
	case SYS_read:
	case SYS_readv:
	case SYS_pread64:
	case SYS_preadv:
	case SYS_recvfrom:
	case SYS_recvmsg:
		wait->kind = FT_WAIT_READ;
		add_wait_fd(wait, (int)a[0], false);
		break;
	case SYS_recvmmsg:
		wait->kind = FT_WAIT_READ;
		wait->timed = a[4] != 0;
		add_wait_fd(wait, (int)a[0], false);
		break;
	case SYS_write:
	case SYS_writev:
	case SYS_pwrite64:
	case SYS_pwritev:
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_sendmmsg:
		wait->kind = FT_WAIT_WRITE;
		add_wait_fd(wait, (int)a[0], true);
		break;
	case SYS_poll:
		decode_poll(facts, wait, read_memory, data);
		wait->timed = (int)a[2] >= 0;
		break;
	case SYS_ppoll:
		decode_poll(facts, wait, read_memory, data);
		wait->timed = a[2] != 0;
		break;
	case SYS_select:
	case SYS_pselect6:
		decode_select(facts, wait, read_memory, data);
		wait->timed = a[4] != 0;
		break;
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
		wait->kind = FT_WAIT_POLL;
		wait->epoll_fd = (int)a[0];
		wait->timed = (int)a[3] >= 0;
		break;
	case SYS_epoll_pwait2:
		wait->kind = FT_WAIT_POLL;
		wait->epoll_fd = (int)a[0];
		wait->timed = a[3] != 0;
		break;
	case SYS_accept:
	case SYS_accept4:
		wait->kind = FT_WAIT_ACCEPT;
		add_wait_fd(wait, (int)a[0], false);
		break;
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		wait->kind = FT_WAIT_SLEEP;
		wait->timed = true;
		break;
	case SYS_restart_syscall:
		/*
		 * A poll(), a sleep or a timed futex wait that a signal or a
		 * stop interrupted.  Only an earlier sample shows which one it
		 * is, and whether it has a timeout.
		 */
		wait->kind = FT_WAIT_OTHER;
		break;
	case SYS_pause:
	case SYS_rt_sigsuspend:
		wait->kind = FT_WAIT_SIGNAL;
		break;
	case SYS_rt_sigtimedwait:
		wait->kind = FT_WAIT_SIGNAL;
		wait->timed = a[2] != 0;
		break;
#endif
	default:
		break;
	}
}

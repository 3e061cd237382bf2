/*
 * The explanation of a hang, as a pure function of the wait graph.
 *
 * Each blocked thread has wakers: the threads or processes that could end
 * its wait.  A futex private to a process can be woken only by its other
 * threads, or by the mutex's owner when the word is a pthread mutex's; a
 * pipe by the holders of its other end; wait4() by the matching children.
 * A timeout, a terminal, a listening socket or a process outside the
 * family can always end a wait.  wait_graph_solve() then finds the
 * threads that nothing awake can reach: every waker of each is stuck too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "forktrace/event.h"
#include "forktrace/hang.h"
#include "forktrace/strbuf.h"
#include "forktrace/xmalloc.h"

/* futex(2) operations and flags, as in <linux/futex.h> */
#define OP_WAIT		   0
#define OP_LOCK_PI	   6
#define OP_WAIT_BITSET	   9
#define OP_WAIT_REQUEUE_PI 11
#define OP_LOCK_PI2	   13
#define OP_PRIVATE	   128
#define OP_CLOCK_REALTIME  256
#define FUTEX_TID_MASK	   0x3fffffffu

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
hang_cause_name(enum ft_hang_cause cause)
{
	switch (cause) {
	case FT_HANG_WAITING:
		return "waiting";
	case FT_HANG_LOCK_NOT_COPIED:
		return "lock_not_copied";
	case FT_HANG_LOCK_HELD_BY_ITSELF:
		return "lock_held_by_itself";
	case FT_HANG_LOCK_OWNER_GONE:
		return "lock_owner_gone";
	case FT_HANG_FUTEX:
		return "futex";
	case FT_HANG_THREADS:
		return "threads";
	case FT_HANG_WAIT_CYCLE:
		return "wait_cycle";
	case FT_HANG_DEAD_PEER:
		return "dead_peer";
	case FT_HANG_BEHIND:
		return "waits_for_deadlocked";
	}
	return "?";
}

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
	if (op == OP_LOCK_PI || op == OP_LOCK_PI2) {
		/* A priority-inheritance word holds its owner's tid. */
		wait->futex_mutex = true;
		wait->futex_owner =
			(pid_t)((unsigned)mutex.lock & FUTEX_TID_MASK);
		return;
	}
	if (mutex.kind & ~MUTEX_KIND_BITS || mutex.owner <= 0)
		return;
	if (mutex.kind & MUTEX_ROBUST) {
		/* A robust mutex's word holds its owner's tid too. */
		if (((unsigned)mutex.lock & FUTEX_TID_MASK) !=
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
	uint64_t count = facts->syscall_args[0];
	size_t words = (count + 63) / 64, set, fd;

	wait->kind = FT_WAIT_POLL;
	if (words > 16 || !read_memory) {
		wait->fds_unknown = true;
		return;
	}
	for (set = 0; set < 2; set++) {
		uint64_t addr = facts->syscall_args[1 + set];

		memset(sets[set], 0, sizeof(sets[set]));
		if (addr && words &&
		    !read_memory(facts->tid, addr, sets[set], words * 8,
				 data)) {
			wait->fds_unknown = true;
			return;
		}
		for (fd = 0; fd < count; fd++)
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
			wait->child = a[1] ? -(pid_t)a[1] : 0;
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
		/* A timed wait that a signal or a stop interrupted. */
		wait->kind = FT_WAIT_SLEEP;
		wait->timed = true;
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

struct ft_wait_process *
wait_graph_add(struct ft_wait_graph *graph, pid_t pid)
{
	struct ft_wait_process *process;

	if (graph->count == graph->capacity)
		graph->processes = xgrow(graph->processes, &graph->capacity,
					 sizeof(*graph->processes));
	process = &graph->processes[graph->count++];
	memset(process, 0, sizeof(*process));
	process->pid = pid;
	return process;
}

/* Grows an array of records by one zeroed record; returns it. */
static void *
grow_one(void **array, size_t *count, size_t size)
{
	char *base;

	/* Capacities double from 4; a count that is a power of two is full. */
	if (*count >= 4 && (*count & (*count - 1)) == 0)
		*array = xrealloc(*array, 2 * *count * size);
	else if (*count == 0)
		*array = xmalloc(4 * size);
	base = *array;
	memset(base + *count * size, 0, size);
	return base + (*count)++ * size;
}

struct ft_wait_thread *
wait_process_add_thread(struct ft_wait_process *process)
{
	struct ft_wait_thread *thread =
		grow_one((void **)&process->threads, &process->thread_count,
			 sizeof(*thread));

	thread->wait.epoll_fd = -1;
	return thread;
}

struct ft_wait_file *
wait_process_add_file(struct ft_wait_process *process)
{
	return grow_one((void **)&process->files, &process->file_count,
			sizeof(struct ft_wait_file));
}

void
wait_process_add_shared_map(struct ft_wait_process *process,
			    unsigned long inode)
{
	unsigned long *slot =
		grow_one((void **)&process->shared_maps,
			 &process->shared_map_count, sizeof(*slot));

	*slot = inode;
}

void
wait_graph_free(struct ft_wait_graph *graph)
{
	size_t i, j;

	for (i = 0; i < graph->count; i++) {
		struct ft_wait_process *process = &graph->processes[i];

		for (j = 0; j < process->thread_count; j++)
			stack_free(process->threads[j].facts.stack);
		free(process->threads);
		free(process->files);
		free(process->shared_maps);
		free(process->fork_threads);
	}
	free(graph->processes);
	memset(graph, 0, sizeof(*graph));
}

struct ft_wait_process *
wait_graph_member(const struct ft_wait_graph *graph, pid_t pid)
{
	size_t i;

	for (i = 0; i < graph->count; i++)
		if (graph->processes[i].pid == pid &&
		    graph->processes[i].member && !graph->processes[i].ended)
			return &graph->processes[i];
	return NULL;
}

static const struct ft_wait_file *
find_file(const struct ft_wait_process *process, int fd)
{
	size_t i;

	for (i = 0; i < process->file_count; i++)
		if (process->files[i].fd == fd)
			return &process->files[i];
	return NULL;
}

static struct ft_wait_thread *
find_thread(const struct ft_wait_process *process, pid_t tid)
{
	size_t i;

	for (i = 0; i < process->thread_count; i++)
		if (process->threads[i].facts.tid == tid)
			return &process->threads[i];
	return NULL;
}

/*
 * A waker: a thread (tid set) or any thread of a process but the waiter
 * (tid 0), or anything outside what forktrace sees (process NULL).
 */
struct waker {
	const struct ft_wait_process *process;
	pid_t tid;
};

struct wakers {
	struct waker items[64];
	size_t count;
	bool outside; /* something outside the graph can end the wait */
};

static void
add_waker(struct wakers *w, const struct ft_wait_process *process, pid_t tid)
{
	size_t i;

	if (!process->member || process->ended) {
		w->outside = true; /* its threads are not known: awake */
		return;
	}
	for (i = 0; i < w->count; i++)
		if (w->items[i].process == process && w->items[i].tid == tid)
			return;
	if (w->count == sizeof(w->items) / sizeof(w->items[0])) {
		w->outside = true; /* too many to follow: assume awake */
		return;
	}
	w->items[w->count].process = process;
	w->items[w->count].tid = tid;
	w->count++;
}

/*
 * Adds the holders of the other end of file: the writers of a pipe read,
 * the readers of a pipe written, the holders of a socket's peer.
 */
static void
add_file_wakers(const struct ft_wait_graph *graph,
		const struct ft_wait_file *file, bool write, struct wakers *w)
{
	unsigned long inode;
	size_t i, j;

	if (file->kind == FT_FILE_PIPE)
		inode = file->inode;
	else if (file->kind == FT_FILE_SOCKET && file->peer)
		inode = file->peer;
	else {
		w->outside = true; /* a terminal, a network, a device */
		return;
	}
	for (i = 0; i < graph->count; i++) {
		const struct ft_wait_process *p = &graph->processes[i];

		if (p->ended)
			continue;
		for (j = 0; j < p->file_count; j++) {
			const struct ft_wait_file *f = &p->files[j];

			if (f->inode != inode)
				continue;
			if (file->kind == FT_FILE_PIPE &&
			    !(write ? f->can_read : f->can_write))
				continue;
			add_waker(w, p, 0);
			break;
		}
	}
}

static bool
child_matches(const struct ft_wait_process *parent,
	      const struct ft_wait_process *child, pid_t spec)
{
	if (child->ended || child->ppid != parent->pid)
		return false;
	if (spec > 0)
		return child->pid == spec;
	if (spec == -1)
		return true;
	if (spec == 0)
		return child->pgid == parent->pgid;
	return child->pgid == -spec;
}

/* Lists who could end thread's wait. */
static void
find_wakers(const struct ft_wait_graph *graph,
	    const struct ft_wait_process *process,
	    const struct ft_wait_thread *thread, struct wakers *w)
{
	const struct ft_wait *wait = &thread->wait;
	unsigned i;
	size_t j;

	w->count = 0;
	w->outside = false;
	switch (wait->kind) {
	case FT_WAIT_FUTEX:
		if (wait->futex_shared) {
			if (!wait->futex_inode) {
				w->outside = true;
				return;
			}
			for (j = 0; j < graph->count; j++) {
				const struct ft_wait_process *p =
					&graph->processes[j];
				size_t k;

				for (k = 0; k < p->shared_map_count; k++)
					if (p->shared_maps[k] ==
					    wait->futex_inode) {
						add_waker(w, p, 0);
						break;
					}
			}
			return;
		}
		if (!wait->futex_mutex) {
			add_waker(w, process, 0);
			return;
		}
		/* Only the owner unlocks a mutex; a gone one never will. */
		if (wait->futex_owner != thread->facts.tid &&
		    find_thread(process, wait->futex_owner))
			add_waker(w, process, wait->futex_owner);
		return;
	case FT_WAIT_CHILD:
		for (j = 0; j < graph->count; j++)
			if (child_matches(process, &graph->processes[j],
					  wait->child)) {
				if (!graph->processes[j].member)
					w->outside = true;
				else
					add_waker(w, &graph->processes[j], 0);
			}
		if (!w->count)
			w->outside = true; /* a child forktrace does not see */
		return;
	case FT_WAIT_READ:
	case FT_WAIT_WRITE:
	case FT_WAIT_POLL:
		if (wait->fds_unknown || wait->epoll_fd >= 0 ||
		    !wait->fd_count) {
			w->outside = true;
			return;
		}
		for (i = 0; i < wait->fd_count; i++) {
			const struct ft_wait_file *file =
				find_file(process, wait->fds[i]);

			if (!file) {
				w->outside = true;
				return;
			}
			add_file_wakers(graph, file, wait->fd_write[i], w);
		}
		return;
	default:
		w->outside = true;
		return;
	}
}

/* Returns true when something that waker stands for is not stuck. */
static bool
waker_awake(const struct waker *waker, pid_t waiter)
{
	const struct ft_wait_process *p = waker->process;
	size_t i;

	if (waker->tid) {
		const struct ft_wait_thread *t = find_thread(p, waker->tid);

		return t && !t->stuck;
	}
	for (i = 0; i < p->thread_count; i++)
		if (p->threads[i].facts.tid != waiter && !p->threads[i].stuck)
			return true;
	return false;
}

void
wait_graph_solve(struct ft_wait_graph *graph)
{
	struct wakers w;
	bool changed = true;
	size_t i, j, k;

	for (i = 0; i < graph->count; i++) {
		struct ft_wait_process *p = &graph->processes[i];

		for (j = 0; j < p->thread_count; j++) {
			struct ft_wait_thread *t = &p->threads[j];

			t->stuck = p->member && !p->ended && t->blocked &&
				   !t->wait.timed &&
				   t->wait.kind != FT_WAIT_NONE;
		}
	}
	/* Wake, round after round, every thread that an awake one reaches. */
	while (changed) {
		changed = false;
		for (i = 0; i < graph->count; i++) {
			struct ft_wait_process *p = &graph->processes[i];

			for (j = 0; j < p->thread_count; j++) {
				struct ft_wait_thread *t = &p->threads[j];
				bool awake;

				if (!t->stuck)
					continue;
				find_wakers(graph, p, t, &w);
				awake = w.outside;
				for (k = 0; !awake && k < w.count; k++)
					awake = waker_awake(&w.items[k],
							    t->facts.tid);
				if (awake) {
					t->stuck = false;
					changed = true;
				}
			}
		}
	}
}

/* --- Words ------------------------------------------------------------ */

static void
add_process_name(struct strbuf *sb, const struct ft_wait_graph *graph,
		 pid_t pid)
{
	size_t i;

	strbuf_addf(sb, "%d", (int)pid);
	for (i = 0; i < graph->count; i++)
		if (graph->processes[i].pid == pid &&
		    graph->processes[i].comm[0]) {
			strbuf_addf(sb, " (%s)", graph->processes[i].comm);
			return;
		}
}

static const char *
file_name(const struct ft_wait_process *process, int fd)
{
	const struct ft_wait_file *file = find_file(process, fd);

	return file && file->name[0] ? file->name : "a file";
}

/* Appends what the thread waits for: "waits to read pipe:[12] (fd 3)". */
static void
add_wait_words(struct strbuf *sb, const struct ft_wait_graph *graph,
	       const struct ft_wait_process *process,
	       const struct ft_wait_thread *thread)
{
	const struct ft_wait *wait = &thread->wait;
	const char *call = syscall_name(thread->facts.syscall_nr);
	const struct ft_wait_file *file;
	unsigned i;

	if (!call)
		call = "a system call";
	switch (wait->kind) {
	case FT_WAIT_FUTEX:
		if (wait->futex_mutex)
			strbuf_addf(sb, "waits for the mutex at 0x%llx",
				    (unsigned long long)wait->futex_addr);
		else
			strbuf_addf(sb, "waits on the %sfutex at 0x%llx%s",
				    wait->futex_shared ? "shared " : "",
				    (unsigned long long)wait->futex_addr,
				    wait->timed ? ", with a timeout" : "");
		break;
	case FT_WAIT_CHILD:
		if (wait->vfork) {
			strbuf_addf(sb,
				    "waits in %s() until its child execs or "
				    "exits",
				    call);
		} else if (wait->child > 0) {
			strbuf_addf(sb, "waits in %s() for its child ", call);
			add_process_name(sb, graph, wait->child);
		} else if (wait->child == -1) {
			strbuf_addf(sb, "waits in %s() for any child", call);
		} else {
			strbuf_addf(sb,
				    "waits in %s() for a child in its "
				    "process group",
				    call);
		}
		break;
	case FT_WAIT_READ:
	case FT_WAIT_WRITE:
		file = find_file(process, wait->fds[0]);
		if (file && file->kind == FT_FILE_TERMINAL)
			strbuf_addf(sb, "waits to read its terminal %s (fd %d)",
				    file->name, wait->fds[0]);
		else
			strbuf_addf(sb, "waits to %s %s (fd %d)",
				    wait->kind == FT_WAIT_READ ? "read"
							       : "write to",
				    file_name(process, wait->fds[0]),
				    wait->fds[0]);
		break;
	case FT_WAIT_POLL:
		strbuf_addf(sb, "waits in %s()", call);
		if (wait->fd_count && !wait->fds_unknown) {
			strbuf_addstr(sb, " on ");
			for (i = 0; i < wait->fd_count && i < 4; i++)
				strbuf_addf(sb, "%s%s (fd %d)", i ? ", " : "",
					    file_name(process, wait->fds[i]),
					    wait->fds[i]);
			if (wait->fd_count > 4)
				strbuf_addf(sb, " and %u more",
					    wait->fd_count - 4);
		}
		if (wait->timed)
			strbuf_addstr(sb, ", with a timeout");
		break;
	case FT_WAIT_ACCEPT:
		strbuf_addf(sb, "waits in %s() on %s (fd %d) for a connection",
			    call, file_name(process, wait->fds[0]),
			    wait->fds[0]);
		break;
	case FT_WAIT_SLEEP:
		strbuf_addf(sb, "sleeps in %s(), a timed wait", call);
		break;
	case FT_WAIT_SIGNAL:
		strbuf_addf(sb, "waits for a signal in %s()", call);
		break;
	case FT_WAIT_OTHER:
		strbuf_addf(sb, "waits in %s()", call);
		break;
	case FT_WAIT_NONE:
		strbuf_addstr(sb, "is not in a system call");
		break;
	}
}

static void
add_evidence(struct ft_hang_report *report, const struct strbuf *line)
{
	report->evidence =
		xrealloc(report->evidence, (report->evidence_count + 1) *
						   sizeof(*report->evidence));
	report->evidence[report->evidence_count++] = xstrdup(strbuf_str(line));
}

static void
add_related(struct ft_hang_report *report, pid_t pid)
{
	size_t i;

	for (i = 0; i < report->related_count; i++)
		if (report->related[i] == pid)
			return;
	report->related =
		xrealloc(report->related, (report->related_count + 1) *
						  sizeof(*report->related));
	report->related[report->related_count++] = pid;
}

static void
add_how_it_ended(struct strbuf *sb, const struct ft_wait_process *p)
{
	char name[16];

	if (WIFSIGNALED(p->status)) {
		strbuf_addf(sb, "was killed by %s",
			    signal_name(WTERMSIG(p->status), name));
		if (p->has_sender)
			strbuf_addf(sb, " from %d", (int)p->sender_pid);
	} else {
		strbuf_addf(sb, "exited with %d", WEXITSTATUS(p->status));
	}
	strbuf_addf(sb, " at %.3fs", (double)p->end_ns / 1e9);
}

/* Appends the parent's other threads at the fork, one evidence line each. */
static void
add_fork_threads(struct ft_hang_report *report, const struct ft_wait_process *p,
		 pid_t only)
{
	struct strbuf line = STRBUF_INIT;
	size_t i;

	for (i = 0; i < p->fork_thread_count; i++) {
		const struct ft_fork_thread *ft = &p->fork_threads[i];
		const char *call;

		if (only && ft->tid != only)
			continue;
		strbuf_reset(&line);
		strbuf_addf(&line, "at the fork, thread %d (%s) of %d was ",
			    (int)ft->tid, ft->name, (int)p->forked_by);
		call = ft->in_syscall ? syscall_name(ft->syscall_nr) : NULL;
		if (call)
			strbuf_addf(&line, "in %s()", call);
		else if (ft->in_syscall)
			strbuf_addf(&line, "in system call %ld",
				    ft->syscall_nr);
		else
			strbuf_addstr(&line, "running");
		if (ft->function[0]) {
			strbuf_addf(&line, ", called from %s", ft->function);
			if (ft->file[0])
				strbuf_addf(&line, " (%s:%d)", ft->file,
					    ft->line);
		}
		add_evidence(report, &line);
	}
	strbuf_release(&line);
}

static const struct ft_fork_thread *
fork_thread(const struct ft_wait_process *p, pid_t tid)
{
	size_t i;

	for (i = 0; i < p->fork_thread_count; i++)
		if (p->fork_threads[i].tid == tid)
			return &p->fork_threads[i];
	return NULL;
}

/* The causes of a single thread stuck on a lock of its own process. */
static bool
explain_lock(struct ft_hang_report *report, struct strbuf *sb,
	     const struct ft_wait_process *p, const struct ft_wait_thread *t)
{
	const struct ft_wait *wait = &t->wait;
	const struct ft_fork_thread *ft;

	if (wait->kind != FT_WAIT_FUTEX || wait->futex_shared ||
	    p->thread_count != 1)
		return false;
	report->owner_tid = wait->futex_owner;
	ft = wait->futex_mutex ? fork_thread(p, wait->futex_owner) : NULL;
	if (ft) {
		report->cause = FT_HANG_LOCK_NOT_COPIED;
		strbuf_addf(sb,
			    "deadlocked: it waits for a mutex that thread %d "
			    "(%s) of %d held when %d forked it; fork() did "
			    "not copy that thread, so nothing will unlock it",
			    (int)ft->tid, ft->name, (int)p->forked_by,
			    (int)p->forked_by);
		add_fork_threads(report, p, ft->tid);
		return true;
	}
	if (wait->futex_mutex && wait->futex_owner == t->facts.tid) {
		report->cause = FT_HANG_LOCK_HELD_BY_ITSELF;
		strbuf_addf(sb,
			    "deadlocked: thread %d waits for a mutex that it "
			    "holds itself",
			    (int)t->facts.tid);
		return true;
	}
	if (wait->futex_mutex) {
		report->cause = FT_HANG_LOCK_OWNER_GONE;
		strbuf_addf(sb,
			    "deadlocked: it waits for a mutex held by thread "
			    "%d, which this process does not have",
			    (int)wait->futex_owner);
		add_fork_threads(report, p, 0);
		return true;
	}
	report->cause = FT_HANG_FUTEX;
	strbuf_addf(sb,
		    "deadlocked: it waits with no timeout on a futex private "
		    "to it, and it has no other thread to wake it");
	if (p->fork_thread_count == 1)
		strbuf_addf(sb,
			    "; %d forked it while its thread %d ran, and a "
			    "lock that thread held stays locked here",
			    (int)p->forked_by, (int)p->fork_threads[0].tid);
	else if (p->fork_thread_count)
		strbuf_addf(sb,
			    "; %d forked it while %zu other threads ran, and "
			    "a lock that one of them held stays locked here",
			    (int)p->forked_by, p->fork_thread_count);
	add_fork_threads(report, p, 0);
	return true;
}

/* Finds an ended member that held the other end of what t waits on. */
static bool
explain_dead_peer(struct ft_hang_report *report, struct strbuf *sb,
		  const struct ft_wait_graph *graph,
		  const struct ft_wait_process *p,
		  const struct ft_wait_thread *t)
{
	const struct ft_wait *wait = &t->wait;
	const struct ft_wait_process *best = NULL;
	const struct ft_wait_file *best_file = NULL;
	bool best_write = false;
	unsigned i;
	size_t j, k;

	if (wait->kind != FT_WAIT_READ && wait->kind != FT_WAIT_WRITE &&
	    wait->kind != FT_WAIT_POLL)
		return false;
	for (i = 0; i < wait->fd_count; i++) {
		const struct ft_wait_file *file = find_file(p, wait->fds[i]);
		unsigned long inode;

		if (!file || (file->kind != FT_FILE_PIPE &&
			      !(file->kind == FT_FILE_SOCKET && file->peer)))
			continue;
		inode = file->kind == FT_FILE_PIPE ? file->inode : file->peer;
		for (j = 0; j < graph->count; j++) {
			const struct ft_wait_process *q = &graph->processes[j];

			if (!q->ended || (best && q->end_ns < best->end_ns))
				continue;
			for (k = 0; k < q->file_count; k++) {
				const struct ft_wait_file *f = &q->files[k];

				if (f->inode != inode)
					continue;
				if (file->kind == FT_FILE_PIPE &&
				    !(wait->fd_write[i] ? f->can_read
							: f->can_write))
					continue;
				best = q;
				best_file = file;
				best_write = wait->fd_write[i];
				break;
			}
		}
	}
	if (!best)
		return false;
	report->cause = FT_HANG_DEAD_PEER;
	report->peer_pid = best->pid;
	report->peer_status = best->status;
	report->peer_end_ns = best->end_ns;
	snprintf(report->wait_file, sizeof(report->wait_file), "%s",
		 best_file->name);
	if (wait->kind == FT_WAIT_POLL)
		strbuf_addf(sb,
			    "deadlocked: thread %d waits in %s() for %s "
			    "(fd %d), ",
			    (int)t->facts.tid,
			    syscall_name(t->facts.syscall_nr)
				    ? syscall_name(t->facts.syscall_nr)
				    : "poll",
			    best_file->name, best_file->fd);
	else
		strbuf_addf(sb,
			    "deadlocked: thread %d waits to %s %s (fd %d), ",
			    (int)t->facts.tid, best_write ? "write to" : "read",
			    best_file->name, best_file->fd);
	strbuf_addstr(sb, "and every live process that holds its other end "
			  "is blocked too; ");
	add_process_name(sb, graph, best->pid);
	strbuf_addf(sb, ", which held its %s end, ",
		    best_write ? "read" : "write");
	add_how_it_ended(sb, best);
	return true;
}

/* Appends to path a cycle of processes from from back to target. */
static bool
find_cycle(const struct ft_wait_graph *graph,
	   const struct ft_wait_process *from, pid_t target, pid_t *path,
	   size_t depth, size_t max)
{
	struct wakers w;
	size_t i, j, k;

	if (depth == max)
		return false;
	for (i = 0; i < from->thread_count; i++) {
		if (!from->threads[i].stuck)
			continue;
		find_wakers(graph, from, &from->threads[i], &w);
		for (j = 0; j < w.count; j++) {
			const struct ft_wait_process *q = w.items[j].process;

			if (q == from)
				continue;
			if (q->pid == target) {
				path[depth] = q->pid;
				return true;
			}
			for (k = 0; k < depth; k++)
				if (path[k] == q->pid)
					break;
			if (k < depth)
				continue;
			path[depth] = q->pid;
			if (find_cycle(graph, q, target, path, depth + 1, max))
				return true;
		}
	}
	return false;
}

/* The stuck thread of from whose wakers include the process to. */
static const struct ft_wait_thread *
thread_waiting_for(const struct ft_wait_graph *graph,
		   const struct ft_wait_process *from,
		   const struct ft_wait_process *to)
{
	struct wakers w;
	size_t i, j;

	for (i = 0; i < from->thread_count; i++) {
		if (!from->threads[i].stuck)
			continue;
		find_wakers(graph, from, &from->threads[i], &w);
		for (j = 0; j < w.count; j++)
			if (w.items[j].process == to)
				return &from->threads[i];
	}
	return NULL;
}

/* Returns the inode that the other end of file has, or 0. */
static unsigned long
other_end(const struct ft_wait_file *file)
{
	if (file->kind == FT_FILE_PIPE)
		return file->inode;
	if (file->kind == FT_FILE_SOCKET)
		return file->peer;
	return 0;
}

/* Returns to's descriptor for the other end of file, or -1. */
static int
holder_fd(const struct ft_wait_process *to, const struct ft_wait_file *file,
	  bool write)
{
	unsigned long inode = other_end(file);
	size_t i;

	for (i = 0; inode && i < to->file_count; i++) {
		const struct ft_wait_file *f = &to->files[i];

		if (f->inode == inode && (file->kind != FT_FILE_PIPE ||
					  (write ? f->can_read : f->can_write)))
			return f->fd;
	}
	return -1;
}

/* Appends how the process to holds the other end of what wait is on. */
static void
add_other_end(struct strbuf *sb, const struct ft_wait_graph *graph,
	      const struct ft_wait_process *from,
	      const struct ft_wait_process *to, const struct ft_wait *wait)
{
	unsigned i;

	for (i = 0; i < wait->fd_count; i++) {
		const struct ft_wait_file *file = find_file(from, wait->fds[i]);
		struct wakers w = { .count = 0 };
		int fd = file ? holder_fd(to, file, wait->fd_write[i]) : -1;

		if (fd < 0)
			continue;
		if (wait->kind == FT_WAIT_POLL) {
			strbuf_addf(sb,
				    ", and %d holds the other end of %s "
				    "(its fd %d)",
				    (int)to->pid, file->name, fd);
			return;
		}
		add_file_wakers(graph, file, wait->fd_write[i], &w);
		strbuf_addf(sb, ", which %s%d %s (its fd %d)",
			    w.count == 1 && !w.outside ? "only " : "",
			    (int)to->pid,
			    wait->fd_write[i] ? "reads" : "writes", fd);
		return;
	}
}

static bool
explain_cycle(struct ft_hang_report *report, struct strbuf *sb,
	      const struct ft_wait_graph *graph,
	      const struct ft_wait_process *p)
{
	pid_t path[9];
	size_t length = 0, i;

	path[0] = p->pid;
	if (!find_cycle(graph, p, p->pid, path, 1, 8))
		return false;
	while (path[length] != p->pid || length == 0)
		length++;
	report->cause = FT_HANG_WAIT_CYCLE;
	strbuf_addstr(sb, "deadlocked in a wait cycle: ");
	for (i = 0; i < length; i++) {
		const struct ft_wait_process *from =
			wait_graph_member(graph, path[i]);
		const struct ft_wait_process *to =
			wait_graph_member(graph, path[i + 1]);
		const struct ft_wait_thread *t =
			thread_waiting_for(graph, from, to);

		add_related(report, path[i]);
		if (i)
			strbuf_addstr(sb, "; ");
		strbuf_addf(sb, "%d ", (int)from->pid);
		if (t) {
			add_wait_words(sb, graph, from, t);
			if (t->wait.kind != FT_WAIT_CHILD &&
			    t->wait.kind != FT_WAIT_FUTEX)
				add_other_end(sb, graph, from, to, &t->wait);
			if (i == 0) {
				report->tid = t->facts.tid;
				report->wait = t->wait;
			}
		}
	}
	return true;
}

static bool
explain_behind(struct ft_hang_report *report, struct strbuf *sb,
	       const struct ft_wait_graph *graph,
	       const struct ft_wait_process *p)
{
	struct wakers w;
	size_t i, j, shown = 0;

	for (i = 0; i < p->thread_count; i++) {
		if (!p->threads[i].stuck)
			continue;
		find_wakers(graph, p, &p->threads[i], &w);
		for (j = 0; j < w.count; j++)
			if (w.items[j].process != p)
				add_related(report, w.items[j].process->pid);
	}
	if (!report->related_count)
		return false;
	report->cause = FT_HANG_BEHIND;
	strbuf_addstr(sb, "deadlocked: it waits for ");
	for (i = 0; i < report->related_count && shown < 4; i++, shown++) {
		if (i)
			strbuf_addstr(sb, i + 1 == report->related_count ||
							  shown == 3
						  ? " and "
						  : ", ");
		add_process_name(sb, graph, report->related[i]);
	}
	if (report->related_count > 4)
		strbuf_addf(sb, " and %zu more", report->related_count - 4);
	strbuf_addf(sb, ", which %s deadlocked as well",
		    report->related_count == 1 ? "is" : "are");
	return true;
}

static bool
process_deadlocked(const struct ft_wait_process *p)
{
	size_t i;

	for (i = 0; i < p->thread_count; i++)
		if (!p->threads[i].stuck)
			return false;
	return p->thread_count > 0;
}

/* Appends who could end a wait that is not a deadlock. */
static void
add_waker_words(struct ft_hang_report *report, struct strbuf *sb,
		const struct ft_wait_graph *graph,
		const struct ft_wait_process *p, const struct ft_wait_thread *t)
{
	struct wakers w;
	size_t i, shown = 0;

	if (t->wait.timed) {
		strbuf_addstr(sb, "; its timeout will end the wait");
		return;
	}
	find_wakers(graph, p, t, &w);
	for (i = 0; i < w.count; i++) {
		const struct ft_wait_process *q = w.items[i].process;

		if (!waker_awake(&w.items[i], t->facts.tid))
			continue;
		if (q == p) {
			strbuf_addstr(sb, shown++ ? ", or " : "; ");
			if (w.items[i].tid)
				strbuf_addf(sb, "thread %d of it can end it",
					    (int)w.items[i].tid);
			else
				strbuf_addstr(
					sb, "another thread of it can end it");
			continue;
		}
		add_related(report, q->pid);
		if (shown >= 3)
			continue;
		strbuf_addstr(sb, shown++ ? ", or " : "; ");
		add_process_name(sb, graph, q->pid);
		strbuf_addstr(sb, ", which is not blocked, can end it");
	}
	if (w.outside && !shown)
		strbuf_addstr(sb, t->wait.kind == FT_WAIT_CHILD
					  ? "; the child is not traced"
					  : "; something outside the family "
					    "can end it");
	if (shown || w.outside)
		return;
	/* Nothing awake can end it: name the deadlocked ones it waits for. */
	for (i = 0; i < w.count; i++) {
		const struct ft_wait_process *q = w.items[i].process;

		if (q == p || !process_deadlocked(q))
			continue;
		add_related(report, q->pid);
		strbuf_addstr(sb, shown++ ? ", and " : ", but ");
		add_process_name(sb, graph, q->pid);
		strbuf_addstr(sb, " is deadlocked");
	}
}

struct ft_hang_report *
hang_explain(const struct ft_wait_graph *graph, pid_t pid)
{
	const struct ft_wait_process *p = wait_graph_member(graph, pid);
	struct ft_hang_report *report = xcalloc(1, sizeof(*report));
	const struct ft_wait_thread *primary = NULL;
	struct strbuf sb = STRBUF_INIT;
	bool all_stuck = true;
	size_t i;
	int pass;

	report->pid = pid;
	if (!p || !p->thread_count) {
		report->message = xstrdup("waiting");
		return report;
	}
	report->blocked_ns = UINT64_MAX;
	for (i = 0; i < p->thread_count; i++) {
		const struct ft_wait_thread *t = &p->threads[i];

		if (!t->stuck)
			all_stuck = false;
		if (t->blocked && t->blocked_ns < report->blocked_ns)
			report->blocked_ns = t->blocked_ns;
		/* The leader speaks for the process, unless it runs. */
		if (!primary ||
		    (t->blocked && (t->facts.tid == pid || !primary->blocked)))
			primary = t;
	}
	if (report->blocked_ns == UINT64_MAX)
		report->blocked_ns = 0;
	report->tid = primary->facts.tid;
	report->wait = primary->wait;
	if (primary->wait.fd_count)
		snprintf(report->wait_file, sizeof(report->wait_file), "%s",
			 file_name(p, primary->wait.fds[0]));
	report->deadlock = all_stuck;

	if (all_stuck) {
		bool done = explain_lock(report, &sb, p, primary);

		/* A plain read or write says more than a poll: first. */
		for (pass = 0; !done && pass < 2; pass++)
			for (i = 0; !done && i < p->thread_count; i++) {
				const struct ft_wait_thread *t = &p->threads[i];

				if ((t->wait.kind == FT_WAIT_POLL) != pass)
					continue;
				if (explain_dead_peer(report, &sb, graph, p,
						      t)) {
					report->tid = t->facts.tid;
					report->wait = t->wait;
					done = true;
				}
			}
		if (!done)
			done = explain_cycle(report, &sb, graph, p);
		if (!done)
			done = explain_behind(report, &sb, graph, p);
		if (!done) {
			report->cause = FT_HANG_THREADS;
			strbuf_addstr(&sb, "deadlocked: ");
			if (p->thread_count == 1)
				add_wait_words(&sb, graph, p, primary);
			else
				strbuf_addstr(&sb, "every thread waits with no "
						   "timeout for another thread "
						   "of it");
		}
	} else {
		report->cause = FT_HANG_WAITING;
		strbuf_addstr(&sb, "waiting: ");
		if (p->thread_count > 1)
			strbuf_addf(&sb, "thread %d ", (int)primary->facts.tid);
		add_wait_words(&sb, graph, p, primary);
		add_waker_words(report, &sb, graph, p, primary);
	}
	report->message = xstrdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return report;
}

void
hang_report_free(struct ft_hang_report *report)
{
	size_t i;

	if (!report)
		return;
	for (i = 0; i < report->evidence_count; i++)
		free(report->evidence[i]);
	free(report->evidence);
	free(report->related);
	free(report->message);
	free(report);
}

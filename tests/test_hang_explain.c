/*
 * Unit tests of the hang explanation: system calls decoded from their
 * arguments and memory, and wait graphs built by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "forktrace/hang.h"

#define FUTEX_WAIT_PRIVATE	  128
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_WAIT_BITSET	  9
#define FUTEX_LOCK_PI_PRIVATE	  134

/* A fake address space: one buffer at one address. */
struct memory {
	uint64_t addr;
	const void *bytes;
	size_t len;
};

static bool
read_fake(pid_t tid, uint64_t addr, void *buf, size_t len, void *data)
{
	const struct memory *m = data;

	(void)tid;
	if (addr < m->addr || addr + len > m->addr + m->len)
		return false;
	memcpy(buf, (const char *)m->bytes + (addr - m->addr), len);
	return true;
}

static struct ft_thread_snapshot
call(pid_t tid, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct ft_thread_snapshot facts = { .tid = tid, .pid = tid };

	facts.state = 'S';
	facts.in_syscall = true;
	facts.syscall_nr = nr;
	facts.syscall_args[0] = a0;
	facts.syscall_args[1] = a1;
	facts.syscall_args[2] = a2;
	facts.syscall_args[3] = a3;
	return facts;
}

/* glibc's mutex as the futex word's memory: lock, count, owner, ... */
static const int locked_mutex[5] = { 2, 0, 4242, 1, 0 };

static void
decode_normal_mutex_names_owner(void **state)
{
	struct memory m = { 0x1000, locked_mutex, sizeof(locked_mutex) };
	struct ft_thread_snapshot facts =
		call(1, SYS_futex, 0x1000, FUTEX_WAIT_PRIVATE, 2, 0);
	struct ft_wait wait;

	(void)state;
	wait_decode(&facts, &wait, read_fake, &m);
	assert_int_equal(wait.kind, FT_WAIT_FUTEX);
	assert_false(wait.timed);
	assert_false(wait.futex_shared);
	assert_true(wait.futex_mutex);
	assert_int_equal(wait.futex_owner, 4242);
	assert_true(wait.futex_addr == 0x1000);
}

static void
decode_semaphore_is_no_mutex(void **state)
{
	/* A semaphore's word is its value, 0 while a waiter sleeps. */
	static const int semaphore[5] = { 0, 1, 0, 0, 0 };
	struct memory m = { 0x2000, semaphore, sizeof(semaphore) };
	struct ft_thread_snapshot facts =
		call(1, SYS_futex, 0x2000, FUTEX_WAIT_BITSET_PRIVATE, 0, 0);
	struct ft_wait wait;

	(void)state;
	wait_decode(&facts, &wait, read_fake, &m);
	assert_int_equal(wait.kind, FT_WAIT_FUTEX);
	assert_false(wait.futex_mutex);
	assert_int_equal(wait.futex_owner, 0);
}

static void
decode_futex_details(void **state)
{
	static const int pi_word[5] = { 0x80000000 | 777, 0, 0, 0, 0 };
	struct memory m = { 0x3000, pi_word, sizeof(pi_word) };
	struct ft_thread_snapshot facts;
	struct ft_wait wait;

	(void)state;
	/* A timeout pointer makes it a timed wait. */
	facts = call(1, SYS_futex, 0x1000, FUTEX_WAIT_PRIVATE, 2, 0x7ff0);
	wait_decode(&facts, &wait, NULL, NULL);
	assert_true(wait.timed);
	/* Without the private flag, other processes may share it. */
	facts = call(1, SYS_futex, 0x1000, FUTEX_WAIT_BITSET, 0, 0);
	wait_decode(&facts, &wait, NULL, NULL);
	assert_true(wait.futex_shared);
	/* A priority-inheritance word holds its owner. */
	facts = call(1, SYS_futex, 0x3000, FUTEX_LOCK_PI_PRIVATE, 0, 0);
	wait_decode(&facts, &wait, read_fake, &m);
	assert_true(wait.futex_mutex);
	assert_int_equal(wait.futex_owner, 777);
	/* A wake does not block. */
	facts = call(1, SYS_futex, 0x1000, 129, 1, 0);
	wait_decode(&facts, &wait, NULL, NULL);
	assert_int_equal(wait.kind, FT_WAIT_OTHER);
	/* Memory that cannot be read leaves the owner unknown. */
	facts = call(1, SYS_futex, 0x9000, FUTEX_WAIT_PRIVATE, 2, 0);
	wait_decode(&facts, &wait, read_fake, &m);
	assert_false(wait.futex_mutex);
}

static void
decode_poll_and_select_sets(void **state)
{
	static const struct {
		int fd;
		short events, revents;
	} fds[3] = { { 3, 1, 0 }, { -1, 1, 0 }, { 7, 4, 0 } };
	uint64_t sets[2] = { (1u << 4) | (1u << 6), 0 };
	struct memory pm = { 0x4000, fds, sizeof(fds) };
	struct memory sm = { 0x5000, sets, sizeof(sets) };
	struct ft_thread_snapshot facts;
	struct ft_wait wait;

	(void)state;
	facts = call(1, SYS_poll, 0x4000, 3, (uint64_t)-1, 0);
	wait_decode(&facts, &wait, read_fake, &pm);
	assert_int_equal(wait.kind, FT_WAIT_POLL);
	assert_false(wait.timed);
	assert_int_equal(wait.fd_count, 2);
	assert_int_equal(wait.fds[0], 3);
	assert_false(wait.fd_write[0]);
	assert_int_equal(wait.fds[1], 7);
	assert_true(wait.fd_write[1]);
	/* poll with 100 ms is timed. */
	facts = call(1, SYS_poll, 0x4000, 3, 100, 0);
	wait_decode(&facts, &wait, read_fake, &pm);
	assert_true(wait.timed);
	/* select(7, {4, 6}, NULL, NULL, NULL): the read set at 0x5000. */
	facts = call(1, SYS_select, 7, 0x5000, 0, 0);
	wait_decode(&facts, &wait, read_fake, &sm);
	assert_int_equal(wait.fd_count, 2);
	assert_int_equal(wait.fds[0], 4);
	assert_int_equal(wait.fds[1], 6);
	assert_false(wait.timed);
}

static void
decode_select_nfds_as_int(void **state)
{
	uint64_t sets[2] = { 1u << 4, 0 };
	struct memory sm = { 0x5000, sets, sizeof(sets) };
	struct ft_thread_snapshot facts;
	struct ft_wait wait;

	(void)state;
	/* The kernel reads nfds as an int: junk in the upper bits is ignored.
	 */
	facts = call(1, SYS_select, 0xdeadbeef00000007ull, 0x5000, 0, 0);
	wait_decode(&facts, &wait, read_fake, &sm);
	assert_int_equal(wait.kind, FT_WAIT_POLL);
	assert_false(wait.fds_unknown);
	assert_int_equal(wait.fd_count, 1);
	assert_int_equal(wait.fds[0], 4);
	/* A negative nfds, or one past 1024, leaves the set unknown. */
	facts = call(1, SYS_pselect6, (uint64_t)-1, 0x5000, 0, 0);
	wait_decode(&facts, &wait, read_fake, &sm);
	assert_true(wait.fds_unknown);
	assert_int_equal(wait.fd_count, 0);
	facts = call(1, SYS_select, 1025, 0x5000, 0, 0);
	wait_decode(&facts, &wait, read_fake, &sm);
	assert_true(wait.fds_unknown);
	assert_int_equal(wait.fd_count, 0);
}

static void
decode_other_calls(void **state)
{
	static const struct {
		long nr;
		uint64_t a0, a1;
		enum ft_wait_kind kind;
		bool timed;
		pid_t child;
	} cases[] = {
		{ SYS_wait4, 55, 0, FT_WAIT_CHILD, false, 55 },
		{ SYS_wait4, (uint64_t)-1, 0, FT_WAIT_CHILD, false, -1 },
		{ SYS_waitid, 1, 66, FT_WAIT_CHILD, false, 66 },
		{ SYS_waitid, 0, 0, FT_WAIT_CHILD, false, -1 },
		{ SYS_waitid, 2, 12, FT_WAIT_CHILD, false, -12 },
		{ SYS_waitid, 2, 0x80000000, FT_WAIT_CHILD, false, 0 },
		{ SYS_read, 0, 0, FT_WAIT_READ, false, 0 },
		{ SYS_recvfrom, 3, 0, FT_WAIT_READ, false, 0 },
		{ SYS_write, 1, 0, FT_WAIT_WRITE, false, 0 },
		{ SYS_accept4, 3, 0, FT_WAIT_ACCEPT, false, 0 },
		{ SYS_nanosleep, 0, 0, FT_WAIT_SLEEP, true, 0 },
		{ SYS_clock_nanosleep, 0, 0, FT_WAIT_SLEEP, true, 0 },
		{ SYS_restart_syscall, 0, 0, FT_WAIT_OTHER, false, 0 },
		{ SYS_pause, 0, 0, FT_WAIT_SIGNAL, false, 0 },
		{ SYS_flock, 3, 2, FT_WAIT_OTHER, false, 0 },
	};
	struct ft_thread_snapshot facts;
	struct ft_wait wait;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		facts = call(1, cases[i].nr, cases[i].a0, cases[i].a1, 0, 0);
		wait_decode(&facts, &wait, NULL, NULL);
		assert_int_equal(wait.kind, cases[i].kind);
		assert_int_equal(wait.timed, cases[i].timed);
		if (cases[i].kind == FT_WAIT_CHILD)
			assert_int_equal(wait.child, cases[i].child);
	}
	/* A vfork parent waits for its child. */
	facts = call(1, SYS_vfork, 0, 0, 0, 0);
	wait_decode(&facts, &wait, NULL, NULL);
	assert_int_equal(wait.kind, FT_WAIT_CHILD);
	assert_true(wait.vfork);
	facts = call(1, SYS_clone, 0x4111, 0, 0, 0); /* CLONE_VFORK | ... */
	wait_decode(&facts, &wait, NULL, NULL);
	assert_true(wait.vfork);
	facts = call(1, SYS_clone, 0x1200011, 0, 0, 0); /* fork()'s flags */
	wait_decode(&facts, &wait, NULL, NULL);
	assert_int_equal(wait.kind, FT_WAIT_OTHER);
	/* epoll_wait is resolved later through its descriptor. */
	facts = call(1, SYS_epoll_wait, 9, 0, 8, (uint64_t)-1);
	wait_decode(&facts, &wait, NULL, NULL);
	assert_int_equal(wait.kind, FT_WAIT_POLL);
	assert_int_equal(wait.epoll_fd, 9);
	assert_false(wait.timed);
	/* Between calls: no wait. */
	facts.in_syscall = false;
	wait_decode(&facts, &wait, NULL, NULL);
	assert_int_equal(wait.kind, FT_WAIT_NONE);
}

/* --- Graphs ----------------------------------------------------------- */

static struct ft_wait_process *
member(struct ft_wait_graph *graph, pid_t pid, pid_t ppid, const char *comm)
{
	struct ft_wait_process *p = wait_graph_add(graph, pid);

	p->member = true;
	p->ppid = ppid;
	p->pgid = 1;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

/* Adds a thread blocked for 5 s in wait, which must be decoded already. */
static struct ft_wait_thread *
blocked(struct ft_wait_process *p, pid_t tid, const struct ft_wait *wait)
{
	static const long calls[] = {
		[FT_WAIT_FUTEX] = SYS_futex,	 [FT_WAIT_CHILD] = SYS_wait4,
		[FT_WAIT_READ] = SYS_read,	 [FT_WAIT_WRITE] = SYS_write,
		[FT_WAIT_POLL] = SYS_poll,	 [FT_WAIT_ACCEPT] = SYS_accept4,
		[FT_WAIT_SLEEP] = SYS_nanosleep, [FT_WAIT_SIGNAL] = SYS_pause,
		[FT_WAIT_OTHER] = SYS_flock,
	};
	struct ft_wait_thread *t = wait_process_add_thread(p);

	t->facts = call(tid, calls[wait->kind], 0, 0, 0, 0);
	t->facts.pid = p->pid;
	t->blocked = true;
	t->blocked_ns = 5000000000u;
	t->wait = *wait;
	return t;
}

static struct ft_wait_thread *
running(struct ft_wait_process *p, pid_t tid)
{
	struct ft_wait_thread *t = wait_process_add_thread(p);

	t->facts.tid = tid;
	t->facts.pid = p->pid;
	t->facts.state = 'R';
	t->wait.kind = FT_WAIT_NONE;
	t->wait.epoll_fd = -1;
	return t;
}

static struct ft_wait
futex_wait(pid_t owner)
{
	struct ft_wait wait = { .kind = FT_WAIT_FUTEX, .epoll_fd = -1 };

	wait.futex_addr = 0x1000;
	wait.futex_mutex = owner != 0;
	wait.futex_owner = owner;
	return wait;
}

static struct ft_wait
fd_wait(enum ft_wait_kind kind, int fd)
{
	struct ft_wait wait = { .kind = kind, .epoll_fd = -1 };

	wait.fd_count = 1;
	wait.fds[0] = fd;
	wait.fd_write[0] = kind == FT_WAIT_WRITE;
	return wait;
}

static struct ft_wait
child_wait(pid_t child)
{
	struct ft_wait wait = { .kind = FT_WAIT_CHILD, .epoll_fd = -1 };

	wait.child = child;
	return wait;
}

static void
add_pipe_end(struct ft_wait_process *p, int fd, unsigned long inode, bool write)
{
	struct ft_wait_file *f = wait_process_add_file(p);

	f->fd = fd;
	f->kind = FT_FILE_PIPE;
	f->inode = inode;
	f->can_read = !write;
	f->can_write = write;
	snprintf(f->name, sizeof(f->name), "pipe:[%lu]", inode);
}

/* Solves the graph and explains pid; the caller frees the report. */
static struct ft_hang_report *
explain(struct ft_wait_graph *graph, pid_t pid)
{
	wait_graph_solve(graph);
	return hang_explain(graph, pid);
}

static void
lock_not_copied_names_the_owner(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait wait = futex_wait(11);
	struct ft_wait_process *child = member(&graph, 20, 10, "prog");
	struct ft_hang_report *r;

	(void)state;
	blocked(child, 20, &wait);
	child->forked_by = 10;
	child->fork_threads = calloc(1, sizeof(*child->fork_threads));
	child->fork_thread_count = 1;
	child->fork_threads[0].tid = 11;
	strcpy(child->fork_threads[0].name, "holder");
	child->fork_threads[0].in_syscall = true;
	child->fork_threads[0].syscall_nr = SYS_pause;
	strcpy(child->fork_threads[0].function, "hold_lock");
	strcpy(child->fork_threads[0].file, "fork_lock.c");
	child->fork_threads[0].line = 44;
	r = explain(&graph, 20);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_LOCK_NOT_COPIED);
	assert_int_equal(r->owner_tid, 11);
	assert_string_equal(r->message,
			    "deadlocked: it waits for a mutex that thread 11 "
			    "(holder) of 10 held when 10 forked it; fork() did "
			    "not copy that thread, so nothing will unlock it");
	assert_int_equal(r->evidence_count, 1);
	assert_string_equal(r->evidence[0],
			    "at the fork, thread 11 (holder) of 10 was in "
			    "pause(), called from hold_lock (fork_lock.c:44)");
	assert_true(r->blocked_ns == 5000000000u);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
lock_causes_without_fork_threads(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait self = futex_wait(30), gone = futex_wait(99),
		       plain = futex_wait(0);
	struct ft_hang_report *r;

	(void)state;
	blocked(member(&graph, 30, 1, "a"), 30, &self);
	blocked(member(&graph, 31, 1, "b"), 31, &gone);
	blocked(member(&graph, 32, 1, "c"), 32, &plain);
	r = explain(&graph, 30);
	assert_int_equal(r->cause, FT_HANG_LOCK_HELD_BY_ITSELF);
	assert_string_equal(r->message, "deadlocked: thread 30 waits for a "
					"mutex that it holds itself");
	hang_report_free(r);
	r = hang_explain(&graph, 31);
	assert_int_equal(r->cause, FT_HANG_LOCK_OWNER_GONE);
	assert_int_equal(r->owner_tid, 99);
	hang_report_free(r);
	r = hang_explain(&graph, 32);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_FUTEX);
	assert_string_equal(r->message,
			    "deadlocked: it waits with no timeout on a futex "
			    "private to it, and it has no other thread to "
			    "wake it");
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
other_threads_can_wake_a_futex(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait plain = futex_wait(0), owned = futex_wait(41);
	struct ft_wait_process *p = member(&graph, 40, 1, "prog");
	struct ft_hang_report *r;

	(void)state;
	blocked(p, 40, &plain);
	running(p, 41);
	r = explain(&graph, 40);
	assert_false(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_WAITING);
	assert_string_equal(r->message,
			    "waiting: thread 40 waits on the futex at 0x1000; "
			    "another thread of it can end it");
	hang_report_free(r);
	wait_graph_free(&graph);

	/* A mutex's owner that waits for the waiter: threads deadlocked. */
	memset(&graph, 0, sizeof(graph));
	p = member(&graph, 40, 1, "prog");
	blocked(p, 40, &owned);
	owned.futex_owner = 40;
	owned.futex_addr = 0x2000;
	blocked(p, 41, &owned);
	r = explain(&graph, 40);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_THREADS);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
wait_for_child_on_full_pipe_is_a_cycle(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait waitpid_wait = child_wait(51),
		       write_wait = fd_wait(FT_WAIT_WRITE, 1);
	struct ft_wait_process *parent = member(&graph, 50, 1, "parent");
	struct ft_wait_process *child = member(&graph, 51, 50, "child");
	struct ft_hang_report *r;

	(void)state;
	blocked(parent, 50, &waitpid_wait);
	add_pipe_end(parent, 3, 777, false);
	blocked(child, 51, &write_wait);
	add_pipe_end(child, 1, 777, true);
	r = explain(&graph, 50);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_WAIT_CYCLE);
	assert_string_equal(r->message,
			    "deadlocked in a wait cycle: 50 waits in wait4() "
			    "for its child 51 (child); 51 waits to write to "
			    "pipe:[777] (fd 1), which only 50 reads (its fd "
			    "3)");
	assert_int_equal(r->related_count, 2);
	assert_int_equal(r->related[0], 50);
	assert_int_equal(r->related[1], 51);
	hang_report_free(r);
	r = hang_explain(&graph, 51);
	assert_int_equal(r->cause, FT_HANG_WAIT_CYCLE);
	assert_int_equal(r->tid, 51);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
running_child_or_reader_is_no_deadlock(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait waitpid_wait = child_wait(-1),
		       write_wait = fd_wait(FT_WAIT_WRITE, 1);
	struct ft_wait_process *parent = member(&graph, 60, 1, "sh");
	struct ft_wait_process *child = member(&graph, 61, 60, "busy");
	struct ft_wait_process *reader = member(&graph, 62, 1, "cat");
	struct ft_hang_report *r;

	(void)state;
	blocked(parent, 60, &waitpid_wait);
	running(child, 61);
	r = explain(&graph, 60);
	assert_false(r->deadlock);
	assert_string_equal(r->message,
			    "waiting: it waits in wait4() for any child; 61 "
			    "(busy), which is running, can end it");
	assert_int_equal(r->related_count, 1);
	assert_int_equal(r->related[0], 61);
	hang_report_free(r);

	/* A stopped child is no running one: only a SIGCONT goes on. */
	child->threads[0].facts.state = 'T';
	r = explain(&graph, 60);
	assert_false(r->deadlock);
	assert_string_equal(r->message,
			    "waiting: it waits in wait4() for any child; 61 "
			    "(busy), which is stopped, can end it once "
			    "continued");
	hang_report_free(r);
	child->threads[0].facts.state = 'R';

	/* A writer whose reader runs. */
	add_pipe_end(child, 1, 888, true);
	blocked(child, 63, &write_wait);
	add_pipe_end(reader, 0, 888, false);
	running(reader, 62);
	r = explain(&graph, 61);
	assert_false(r->deadlock);
	hang_report_free(r);
	wait_graph_free(&graph);
}

/*
 * The detector reports no process whose every wait has a known timeout or
 * reads a terminal.  A timeout only assumed, because pidfd_getfd() is
 * missing, does not count.
 */
static void
waits_ending_by_themselves(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait tty_read = fd_wait(FT_WAIT_READ, 0),
		       socket_read = fd_wait(FT_WAIT_READ, 3),
		       sleep_wait = { .kind = FT_WAIT_SLEEP, .timed = true };
	struct ft_wait_process *tty = member(&graph, 80, 1, "cat");
	struct ft_wait_process *sleeper = member(&graph, 81, 1, "sleep");
	struct ft_wait_process *reader = member(&graph, 82, 1, "client");
	struct ft_wait_file *f;
	struct ft_hang_report *r;

	(void)state;
	blocked(tty, 80, &tty_read);
	f = wait_process_add_file(tty);
	f->fd = 0;
	f->kind = FT_FILE_TERMINAL;
	blocked(sleeper, 81, &sleep_wait);
	socket_read.timed = true;
	socket_read.timeout_unknown = true;
	blocked(reader, 82, &socket_read);
	f = wait_process_add_file(reader);
	f->fd = 3;
	f->kind = FT_FILE_SOCKET;
	wait_graph_solve(&graph);

	assert_true(hang_waits_end_by_themselves(&graph, 80));
	assert_true(hang_waits_end_by_themselves(&graph, 81));
	assert_false(hang_waits_end_by_themselves(&graph, 82));

	/* An assumed timeout is named as one that may not exist. */
	strcpy(f->name, "socket:[7]");
	r = explain(&graph, 82);
	assert_false(r->deadlock);
	assert_string_equal(r->message,
			    "waiting: it waits to read socket:[7] (fd 3); it "
			    "may have a timeout that ends the wait");
	hang_report_free(r);
	wait_graph_free(&graph);
}

/*
 * pause() ends only when a handler runs, so with no handler but glibc's
 * own the thread is stuck.  With a handler for SIGUSR1, a signal from
 * anyone can end it.  sigwaitinfo() waits for blocked signals, which
 * anyone may send.
 */
static void
pause_without_handlers_is_stuck(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait pause_wait = { .kind = FT_WAIT_SIGNAL };
	struct ft_wait_process *p = member(&graph, 90, 1, "holder");
	struct ft_wait_thread *t;
	struct ft_hang_report *r;

	(void)state;
	blocked(p, 90, &pause_wait);
	p->caught_signals = 1ull << 31 | 1ull << 32; /* signals 32 and 33 */
	r = explain(&graph, 90);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_NO_WAKER);
	hang_report_free(r);

	p->caught_signals |= 1ull << (SIGUSR1 - 1);
	r = explain(&graph, 90);
	assert_false(r->deadlock);
	hang_report_free(r);

	p->caught_signals = 0;
	t = &p->threads[0];
	t->facts.syscall_nr = SYS_rt_sigtimedwait;
	r = explain(&graph, 90);
	assert_false(r->deadlock);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
outside_and_timed_waits_are_no_deadlock(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait read_wait = fd_wait(FT_WAIT_READ, 0),
		       accept_wait = fd_wait(FT_WAIT_ACCEPT, 3),
		       sleep_wait = { .kind = FT_WAIT_SLEEP, .timed = true };
	struct ft_wait_process *tty = member(&graph, 70, 1, "cat");
	struct ft_wait_process *server = member(&graph, 71, 1, "server");
	struct ft_wait_process *sleeper = member(&graph, 72, 1, "sleep");
	struct ft_wait_process *piped = member(&graph, 73, 1, "wc");
	struct ft_wait_process *outsider = wait_graph_add(&graph, 74);
	struct ft_wait_file *f;
	struct ft_hang_report *r;

	(void)state;
	blocked(tty, 70, &read_wait);
	f = wait_process_add_file(tty);
	f->fd = 0;
	f->kind = FT_FILE_TERMINAL;
	strcpy(f->name, "/dev/pts/3");
	r = explain(&graph, 70);
	assert_false(r->deadlock);
	assert_string_equal(r->message,
			    "waiting: it waits to read its terminal /dev/pts/3 "
			    "(fd 0); something outside the family can end "
			    "it");
	hang_report_free(r);

	blocked(server, 71, &accept_wait);
	f = wait_process_add_file(server);
	f->fd = 3;
	f->kind = FT_FILE_SOCKET;
	strcpy(f->name, "socket:[5]");
	r = explain(&graph, 71);
	assert_false(r->deadlock);
	assert_int_equal(r->wait.kind, FT_WAIT_ACCEPT);
	hang_report_free(r);

	blocked(sleeper, 72, &sleep_wait);
	r = explain(&graph, 72);
	assert_false(r->deadlock);
	assert_string_equal(
		r->message,
		"waiting: it sleeps in nanosleep(), a timed wait; its "
		"timeout will end the wait");
	hang_report_free(r);

	/* A pipe that a process outside the family writes. */
	blocked(piped, 73, &read_wait);
	add_pipe_end(piped, 0, 999, false);
	add_pipe_end(outsider, 1, 999, true);
	r = explain(&graph, 73);
	assert_false(r->deadlock);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
dead_writer_is_named(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait read_wait = fd_wait(FT_WAIT_READ, 5);
	struct ft_wait_process *pool = member(&graph, 80, 1, "python3");
	struct ft_wait_process *worker = member(&graph, 82, 80, "python3");
	struct ft_wait_process *dead;
	struct ft_wait idle = fd_wait(FT_WAIT_READ, 3);
	struct ft_hang_report *r;

	(void)state;
	blocked(pool, 80, &read_wait);
	add_pipe_end(pool, 5, 1234, false);
	add_pipe_end(pool, 6, 1234, true);
	add_pipe_end(pool, 4, 4321, true);
	/* The new worker waits for tasks that only the pool writes. */
	blocked(worker, 82, &idle);
	add_pipe_end(worker, 3, 4321, false);
	add_pipe_end(worker, 7, 1234, true);
	dead = member(&graph, 81, 80, "python3");
	dead->ended = true;
	dead->status = SIGKILL; /* a wait status: killed by SIGKILL */
	dead->end_ns = 1500000000u;
	add_pipe_end(dead, 7, 1234, true);
	r = explain(&graph, 80);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_DEAD_PEER);
	assert_int_equal(r->peer_pid, 81);
	assert_true(WIFSIGNALED(r->peer_status));
	assert_string_equal(r->message,
			    "deadlocked: thread 80 waits to read pipe:[1234] "
			    "(fd 5), and every live process that holds its "
			    "other end is blocked too; 81 (python3), which "
			    "held its write end, was killed by SIGKILL at "
			    "1.500s");
	assert_string_equal(r->wait_file, "pipe:[1234]");
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
waiting_for_deadlocked_members(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait waitpid_wait = child_wait(-1), lock = futex_wait(0);
	struct ft_wait_process *parent = member(&graph, 90, 1, "python3");
	struct ft_hang_report *r;

	(void)state;
	blocked(parent, 90, &waitpid_wait);
	blocked(member(&graph, 91, 90, "python3"), 91, &lock);
	blocked(member(&graph, 92, 90, "python3"), 92, &lock);
	r = explain(&graph, 90);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_BEHIND);
	assert_string_equal(r->message,
			    "deadlocked: it waits for 91 (python3) and 92 "
			    "(python3), which are deadlocked as well");
	assert_int_equal(r->related_count, 2);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
other_file_with_same_inode_is_no_waker(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait read_wait = fd_wait(FT_WAIT_READ, 3);
	struct ft_wait_process *reader = member(&graph, 110, 1, "reader");
	struct ft_wait_process *other = member(&graph, 111, 1, "other");
	struct ft_wait_file *f;
	struct ft_hang_report *r;

	(void)state;
	blocked(reader, 110, &read_wait);
	add_pipe_end(reader, 3, 55, false);
	/* A regular file on a disk, with the pipe's inode number. */
	running(other, 111);
	f = wait_process_add_file(other);
	f->fd = 5;
	f->kind = FT_FILE_OTHER;
	f->dev = 2049;
	f->inode = 55;
	f->can_read = f->can_write = true;
	r = explain(&graph, 110);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_NO_WAKER);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
own_write_end_is_named(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait read_wait = fd_wait(FT_WAIT_READ, 3);
	struct ft_wait_process *parent = member(&graph, 120, 1, "parent");
	struct ft_wait_process *child;
	struct ft_hang_report *r;

	(void)state;
	blocked(parent, 120, &read_wait);
	add_pipe_end(parent, 3, 66, false);
	add_pipe_end(parent, 4, 66, true);
	r = explain(&graph, 120);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_OWN_END);
	assert_string_equal(
		r->message,
		"deadlocked: it waits to read pipe:[66] (fd 3) until "
		"every write end is closed, but it holds a write end "
		"itself (fd 4)");
	hang_report_free(r);

	/* A SIGCHLD handler and a child that still runs can end the wait. */
	parent->caught_signals = 1ull << (SIGCHLD - 1);
	child = member(&graph, 121, 120, "child");
	running(child, 121);
	r = explain(&graph, 120);
	assert_false(r->deadlock);
	hang_report_free(r);

	/* So can a timer's signal, which forktrace cannot see coming. */
	graph.processes[1].ended = true;
	graph.processes[0].caught_signals = 1ull << (SIGALRM - 1);
	r = explain(&graph, 120);
	assert_false(r->deadlock);
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
join_waits_for_the_thread(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait join = futex_wait(0);
	struct ft_wait_process *p = member(&graph, 130, 1, "prog");
	struct ft_hang_report *r;

	(void)state;
	join.futex_read = true;
	join.futex_word = 131;
	join.futex_expected = 131;
	blocked(p, 130, &join);
	running(p, 131);
	r = explain(&graph, 130);
	assert_false(r->deadlock);
	assert_string_equal(r->message,
			    "waiting: thread 130 waits for thread 131 to exit; "
			    "thread 131 of it can end it");
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
lock_of_fork_caller_is_its_own(void **state)
{
	struct ft_wait_graph graph = { 0 };
	struct ft_wait wait = futex_wait(140);
	struct ft_wait_process *parent = member(&graph, 140, 1, "prog");
	struct ft_wait_process *child = member(&graph, 141, 140, "prog");
	struct ft_hang_report *r;

	(void)state;
	/* The single-threaded parent locked it, then forked. */
	running(parent, 140);
	blocked(child, 141, &wait);
	r = explain(&graph, 141);
	assert_true(r->deadlock);
	assert_int_equal(r->cause, FT_HANG_LOCK_HELD_BY_ITSELF);
	assert_string_equal(r->message,
			    "deadlocked: it waits for a mutex that thread 140 "
			    "held when it called fork(); the child is a copy "
			    "of that thread, so it waits for itself");
	hang_report_free(r);
	wait_graph_free(&graph);
}

static void
names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(hang_cause_name(FT_HANG_LOCK_NOT_COPIED),
			    "lock_not_copied");
	assert_string_equal(hang_cause_name(FT_HANG_WAIT_CYCLE), "wait_cycle");
	assert_string_equal(hang_cause_name(FT_HANG_DEAD_PEER), "dead_peer");
	assert_string_equal(hang_cause_name(FT_HANG_BEHIND),
			    "waits_for_deadlocked");
	assert_string_equal(wait_kind_name(FT_WAIT_CHILD), "child");
	assert_string_equal(wait_kind_name(FT_WAIT_ACCEPT), "accept");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_normal_mutex_names_owner),
		cmocka_unit_test(decode_semaphore_is_no_mutex),
		cmocka_unit_test(decode_futex_details),
		cmocka_unit_test(decode_poll_and_select_sets),
		cmocka_unit_test(decode_select_nfds_as_int),
		cmocka_unit_test(decode_other_calls),
		cmocka_unit_test(lock_not_copied_names_the_owner),
		cmocka_unit_test(lock_causes_without_fork_threads),
		cmocka_unit_test(other_threads_can_wake_a_futex),
		cmocka_unit_test(wait_for_child_on_full_pipe_is_a_cycle),
		cmocka_unit_test(running_child_or_reader_is_no_deadlock),
		cmocka_unit_test(pause_without_handlers_is_stuck),
		cmocka_unit_test(outside_and_timed_waits_are_no_deadlock),
		cmocka_unit_test(waits_ending_by_themselves),
		cmocka_unit_test(dead_writer_is_named),
		cmocka_unit_test(waiting_for_deadlocked_members),
		cmocka_unit_test(other_file_with_same_inode_is_no_waker),
		cmocka_unit_test(own_write_end_is_named),
		cmocka_unit_test(join_waits_for_the_thread),
		cmocka_unit_test(lock_of_fork_caller_is_its_own),
		cmocka_unit_test(names_are_stable),
	};

	return cmocka_run_group_tests_name("hang_explain", tests, NULL, NULL);
}

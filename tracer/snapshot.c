/*
 * Taking a snapshot of the traced family.
 *
 * The /proc facts of each thread (state, system call, wait channel, CPU
 * time) are read while it still runs, since an interrupt would move it
 * into ptrace_stop.  Then every thread is interrupted, its stack taken
 * at its stop, and the loop's own handling resumes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/hang.h"
#include "forktrace/loop.h"
#include "forktrace/procfs.h"
#include "forktrace/snapshot.h"
#include "forktrace/xmalloc.h"

/* How long a snapshot waits for the threads to stop, in milliseconds. */
#define SNAPSHOT_WAIT_MS 2000

static const struct {
	long nr;
	const char *name;
} syscall_names[] = {
#if defined(__x86_64__)
	{ SYS_read, "read" },
	{ SYS_write, "write" },
	{ SYS_open, "open" },
	{ SYS_close, "close" },
	{ SYS_poll, "poll" },
	{ SYS_ioctl, "ioctl" },
	{ SYS_pread64, "pread64" },
	{ SYS_pwrite64, "pwrite64" },
	{ SYS_readv, "readv" },
	{ SYS_writev, "writev" },
	{ SYS_select, "select" },
	{ SYS_sched_yield, "sched_yield" },
	{ SYS_msgrcv, "msgrcv" },
	{ SYS_msgsnd, "msgsnd" },
	{ SYS_semop, "semop" },
	{ SYS_pause, "pause" },
	{ SYS_nanosleep, "nanosleep" },
	{ SYS_connect, "connect" },
	{ SYS_accept, "accept" },
	{ SYS_sendto, "sendto" },
	{ SYS_recvfrom, "recvfrom" },
	{ SYS_sendmsg, "sendmsg" },
	{ SYS_recvmsg, "recvmsg" },
	{ SYS_clone, "clone" },
	{ SYS_fork, "fork" },
	{ SYS_vfork, "vfork" },
	{ SYS_execve, "execve" },
	{ SYS_exit, "exit" },
	{ SYS_wait4, "wait4" },
	{ SYS_kill, "kill" },
	{ SYS_flock, "flock" },
	{ SYS_fsync, "fsync" },
	{ SYS_rt_sigsuspend, "rt_sigsuspend" },
	{ SYS_rt_sigtimedwait, "rt_sigtimedwait" },
	{ SYS_futex, "futex" },
	{ SYS_epoll_wait, "epoll_wait" },
	{ SYS_clock_nanosleep, "clock_nanosleep" },
	{ SYS_exit_group, "exit_group" },
	{ SYS_waitid, "waitid" },
	{ SYS_openat, "openat" },
	{ SYS_pselect6, "pselect6" },
	{ SYS_ppoll, "ppoll" },
	{ SYS_epoll_pwait, "epoll_pwait" },
	{ SYS_accept4, "accept4" },
	{ SYS_recvmmsg, "recvmmsg" },
	{ SYS_sendmmsg, "sendmmsg" },
	{ SYS_epoll_pwait2, "epoll_pwait2" },
	{ SYS_futex_waitv, "futex_waitv" },
	{ SYS_clone3, "clone3" },
	{ SYS_restart_syscall, "restart_syscall" },
	{ SYS_tgkill, "tgkill" },
	{ SYS_tkill, "tkill" },
	{ SYS_sigaltstack, "sigaltstack" },
	{ SYS_getrandom, "getrandom" },
	{ SYS_mmap, "mmap" },
#endif
};

const char *
syscall_name(long nr)
{
	size_t i;

	for (i = 0; i < sizeof(syscall_names) / sizeof(syscall_names[0]); i++)
		if (syscall_names[i].nr == nr)
			return syscall_names[i].name;
	return NULL;
}

bool
snapshot_parse_syscall(const char *text, struct ft_thread_snapshot *thread)
{
	char *end;
	long nr;
	int i;

	thread->in_syscall = false;
	errno = 0;
	nr = strtol(text, &end, 10);
	if (end == text || errno || nr < 0)
		return false; /* "running", or -1 between system calls */
	for (i = 0; i < 6; i++) {
		const char *p = end;

		thread->syscall_args[i] = strtoull(p, &end, 16);
		if (end == p)
			return false;
	}
	thread->syscall_nr = nr;
	thread->in_syscall = true;
	return true;
}

void
snapshot_read_thread(pid_t pid, pid_t tid, struct ft_thread_snapshot *thread)
{
	char path[96], *text, *paren;
	size_t len;
	unsigned long utime = 0, stime = 0;
	long ticks = sysconf(_SC_CLK_TCK);

	thread->pid = pid;
	thread->tid = tid;
	thread->state = '?';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) == 0) {
		snprintf(thread->name, sizeof(thread->name), "%.*s",
			 (int)(len && text[len - 1] == '\n' ? len - 1 : len),
			 text);
		free(text);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) == 0) {
		paren = strrchr(text, ')');
		if (paren && paren[1] == ' ') {
			thread->state = paren[2];
			/* utime and stime are fields 14 and 15; state is 3. */
			sscanf(paren + 2,
			       "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
			       "%*u %*u %lu %lu",
			       &utime, &stime);
		}
		free(text);
	}
	if (ticks > 0)
		thread->cpu_seconds = (double)(utime + stime) / (double)ticks;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) == 0) {
		snapshot_parse_syscall(text, thread);
		free(text);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) == 0) {
		snprintf(thread->wchan, sizeof(thread->wchan), "%s",
			 strcmp(text, "0") ? text : "");
		free(text);
	}
}

struct collect {
	struct tracer *t;
	struct ft_snapshot *snapshot;
	size_t capacity;
};

static void
collect_task(pid_t tid, void *value, void *data)
{
	struct collect *c = data;
	struct task *task = value;

	if (task->flags & (TASK_UNANNOUNCED | TASK_AWAITING_FIRST_STOP))
		return; /* too new to have run anything */
	if (c->snapshot->count == c->capacity)
		c->snapshot->threads = xgrow(c->snapshot->threads, &c->capacity,
					     sizeof(*c->snapshot->threads));
	memset(&c->snapshot->threads[c->snapshot->count], 0,
	       sizeof(c->snapshot->threads[0]));
	snapshot_read_thread(task->tgid, tid,
			     &c->snapshot->threads[c->snapshot->count]);
	hang_resolve_restart(c->t, &c->snapshot->threads[c->snapshot->count]);
	/* /proc shows a seized job-control stop as a tracing stop. */
	if (task->flags & TASK_LISTENING) {
		c->snapshot->threads[c->snapshot->count].state = 'T';
		c->snapshot->threads[c->snapshot->count].wchan[0] = '\0';
	}
	c->snapshot->count++;
}

const struct ft_thread_snapshot *
snapshot_thread(const struct ft_snapshot *snapshot, pid_t tid)
{
	size_t i;

	for (i = 0; i < snapshot->count; i++)
		if (snapshot->threads[i].tid == tid)
			return &snapshot->threads[i];
	return NULL;
}

static struct ft_thread_snapshot *
find_thread(struct ft_snapshot *snapshot, pid_t tid)
{
	return (struct ft_thread_snapshot *)snapshot_thread(snapshot, tid);
}

const struct ft_hang_report *
snapshot_report(const struct ft_snapshot *snapshot, pid_t pid)
{
	size_t i;

	for (i = 0; i < snapshot->report_count; i++)
		if (snapshot->reports[i]->pid == pid)
			return snapshot->reports[i];
	return NULL;
}

void
snapshot_free(struct ft_snapshot *snapshot)
{
	size_t i;

	if (!snapshot)
		return;
	for (i = 0; i < snapshot->report_count; i++)
		hang_report_free(snapshot->reports[i]);
	free(snapshot->reports);
	for (i = 0; i < snapshot->count; i++)
		stack_free(snapshot->threads[i].stack);
	free(snapshot->threads);
	free(snapshot);
}

/*
 * Interrupts every thread in the snapshot and takes its stack at its
 * next stop, which the loop then handles as usual.  Gives up on threads
 * that do not stop within SNAPSHOT_WAIT_MS.
 */
static void
take_stacks(struct tracer *t, struct ft_snapshot *snapshot,
	    struct ft_stacks *stacks)
{
	uint64_t deadline = tracer_now(t) + SNAPSHOT_WAIT_MS * 1000000ull;
	size_t pending = 0, i;

	for (i = 0; i < snapshot->count; i++) {
		struct ft_thread_snapshot *thread = &snapshot->threads[i];

		/* A zombie never stops; its stack is gone anyway. */
		if (thread->state == 'Z' || thread->state == 'X')
			continue;
		thread->no_stack = interrupt_harm(thread);
		if (thread->no_stack)
			continue;
		if (ptrace(PTRACE_INTERRUPT, thread->tid, 0L, 0L) == 0) {
			thread->interrupted = true;
			t->snapshot_pending++;
			pending++;
		}
	}
	t->snapshot = snapshot;
	t->snapshot_stacks = stacks;
	while (t->snapshot_pending && tracer_now(t) < deadline) {
		tracer_drain_waits(t);
		if (!t->snapshot_pending)
			break;
		tracer_wait_until(t, deadline);
	}
	t->snapshot = NULL;
	t->snapshot_pending = 0;
	(void)pending;
}

/* Stops waiting for an interrupted thread: it stopped, or it ended. */
static void
settle_interrupt(struct tracer *t, struct ft_thread_snapshot *thread)
{
	if (!thread->interrupted)
		return;
	thread->interrupted = false;
	if (t->snapshot_pending)
		t->snapshot_pending--;
}

void
snapshot_capture_stop(struct tracer *t, struct task *task)
{
	struct ft_thread_snapshot *thread;

	if (!t->snapshot)
		return;
	thread = find_thread(t->snapshot, task->tid);
	if (!thread || thread->stack)
		return;
	thread->stack =
		stacks_capture(t->snapshot_stacks, task->tgid, task->tid);
	hang_note_interrupt(t, task);
	settle_interrupt(t, thread);
}

void
snapshot_thread_ended(struct tracer *t, pid_t tid)
{
	struct ft_thread_snapshot *thread;

	if (!t->snapshot)
		return;
	thread = find_thread(t->snapshot, tid);
	if (thread)
		settle_interrupt(t, thread);
}

/* A snapshot always has stacks, even under --stacks=none. */
static struct ft_stacks *
snapshot_stacks(struct tracer *t)
{
	if (t->stacks)
		return t->stacks;
	if (!t->snapshot_own_stacks)
		t->snapshot_own_stacks =
			stacks_new(t->opts->stack_depth, t->opts->verbose > 0,
				   t->opts->python);
	return t->snapshot_own_stacks;
}

static int
compare_tid(const void *a, const void *b)
{
	const struct ft_thread_snapshot *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

struct ft_snapshot *
snapshot_take(struct tracer *t)
{
	struct ft_snapshot *snapshot = xcalloc(1, sizeof(*snapshot));
	struct collect c = { t, snapshot, 0 };

	snapshot->time_ns = tracer_now(t);
	pidmap_each(&t->tasks, collect_task, &c);
	if (snapshot->count)
		qsort(snapshot->threads, snapshot->count,
		      sizeof(*snapshot->threads), compare_tid);
	/* Explained first: an interrupt moves a thread out of its call. */
	hang_explain_snapshot(t, snapshot);
	take_stacks(t, snapshot, snapshot_stacks(t));
	return snapshot;
}

struct ft_snapshot *
snapshot_take_threads(struct tracer *t, const pid_t *tids, size_t count,
		      bool with_stacks)
{
	struct ft_snapshot *snapshot = xcalloc(1, sizeof(*snapshot));
	size_t i;

	snapshot->time_ns = tracer_now(t);
	snapshot->threads =
		xcalloc(count ? count : 1, sizeof(*snapshot->threads));
	for (i = 0; i < count; i++) {
		struct task *task = pidmap_get(&t->tasks, tids[i]);

		if (!task)
			continue;
		snapshot_read_thread(task->tgid, task->tid,
				     &snapshot->threads[snapshot->count]);
		hang_resolve_restart(t, &snapshot->threads[snapshot->count]);
		if (task->flags & TASK_LISTENING)
			snapshot->threads[snapshot->count].state = 'T';
		snapshot->count++;
	}
	if (snapshot->count)
		qsort(snapshot->threads, snapshot->count,
		      sizeof(*snapshot->threads), compare_tid);
	/* A snapshot under way owns the interrupts: go without stacks. */
	if (with_stacks && !t->snapshot && snapshot->count) {
		take_stacks(t, snapshot, snapshot_stacks(t));
		for (i = 0; i < count; i++) {
			struct task *task = pidmap_get(&t->tasks, tids[i]);

			if (task)
				hang_rebaseline_task(t, task);
		}
	}
	return snapshot;
}

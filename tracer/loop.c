/*
 * The ptrace event loop.
 *
 * forktrace seizes the program it launches with PTRACE_SEIZE and the fork,
 * vfork, clone, exec and exit options, so the kernel attaches every new
 * child and thread to it.  There are no system-call stops.  The loop
 * blocks in waitpid(-1, __WALL), as the cheapest tracer would, turns each
 * stop into an event, feeds it to the family model and the output, and
 * resumes the thread.  Every resume decision is made in this file.
 *
 * Signals to forktrace and its timers must end that wait as well.  A
 * thread of their own takes them, records what came, and writes a byte to
 * the pipe of the waker, a child of forktrace that then stops itself.
 * Its stop is a wait status, so waitpid() returns even when the signal
 * came just before the call.  The loop's thread keeps those signals
 * blocked, so none of its system calls is interrupted.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/escape.h"
#include "forktrace/exec_stack.h"
#include "forktrace/family.h"
#include "forktrace/job_stop.h"
#include "forktrace/launch.h"
#include "forktrace/loop.h"
#include "forktrace/output.h"
#include "forktrace/pidmap.h"
#include "forktrace/procfs.h"
#include "forktrace/seize.h"
#include "forktrace/stacks.h"
#include "forktrace/tracer.h"
#include "forktrace/xmalloc.h"

/* The signals that end the trace, in the order their handling takes. */
static const int ending_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
#define ENDING_COUNT (sizeof(ending_signals) / sizeof(ending_signals[0]))

/*
 * Written by the signal thread: how many of each ending signal came, and
 * the si_code and sender of the last one.  The loop counts what it
 * handled in handled[].
 */
static atomic_uint received[ENDING_COUNT];
static atomic_int received_code[ENDING_COUNT];
static atomic_int received_pid[ENDING_COUNT];
static unsigned handled[ENDING_COUNT];
/* The signals that the signal thread takes, and its signalfd */
static sigset_t thread_signals;
static int signal_fd = -1;
/* 1 while the signal thread reads signals that it has not recorded yet */
static atomic_int taking;
/* The waker: a child that stops itself for each byte on its pipe */
static pid_t waker_pid;
static int waker_pipe[2] = { -1, -1 };

/*
 * Runs the waker, in a child of forktrace: for each read of bytes from
 * the pipe it stops itself, and that job-control stop ends the loop's
 * waitpid().  The loop continues it.  It ignores the terminal's signals,
 * which reach forktrace's whole process group, and dies with forktrace.
 * NOTE: a SIGCONT to that group between the waker's stop and the loop's
 * wait cancels the stop's report.  What came then waits for the next tick
 * or stop of the family.
 */
static void
run_waker(pid_t parent)
{
	static const int ignored[] = { SIGHUP,	SIGINT,	 SIGQUIT, SIGTERM,
				       SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
	char bytes[64];
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	close(waker_pipe[1]);
	while (read(waker_pipe[0], bytes, sizeof(bytes)) > 0)
		raise(SIGSTOP);
	_exit(0);
}

/* Starts the waker; returns its pid, or -1. */
static pid_t
start_waker(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		run_waker(parent);
	return pid;
}

/*
 * Runs in a thread of its own, which alone takes the ending signals and
 * the wake timer's SIGALRM, from a signalfd: the loop's thread keeps them
 * blocked, so none of its system calls is interrupted.  For each one it
 * writes a byte to the waker's pipe.  taking is set from before the
 * signals leave the pending set until they are recorded.
 */
static void *
take_signals(void *data)
{
	int fd = *(int *)data;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct signalfd_siginfo si[8];
	char byte = 0;
	ssize_t n;
	size_t i, j;

	for (;;) {
		if (poll(&pfd, 1, -1) < 0)
			continue;
		atomic_store(&taking, 1);
		n = read(fd, si, sizeof(si));
		for (i = 0; n > 0 && i < (size_t)n / sizeof(si[0]); i++) {
			for (j = 0; j < ENDING_COUNT; j++) {
				if (ending_signals[j] != (int)si[i].ssi_signo)
					continue;
				atomic_store(&received_code[j], si[i].ssi_code);
				atomic_store(&received_pid[j],
					     (int)si[i].ssi_pid);
				atomic_fetch_add(&received[j], 1);
			}
		}
		atomic_store(&taking, 0);
		/* A full pipe wakes the loop all the same. */
		if (write(waker_pipe[1], &byte, 1) < 0 && errno != EAGAIN)
			perror_msg("cannot wake the loop");
	}
	return NULL;
}

/* Returns true when a signo sent to forktrace is not handled yet. */
static bool
signal_waiting(int signo)
{
	size_t i;

	for (i = 0; i < ENDING_COUNT; i++)
		if (atomic_load(&received[i]) != handled[i] &&
		    (!signo || ending_signals[i] == signo))
			return true;
	return false;
}

/*
 * Handles a wait status of the waker: continues it after its stop, or
 * starts a new one if it died, as a kill of the process group may do.
 */
static void
handle_waker_status(int status)
{
	if (WIFSTOPPED(status)) {
		kill(waker_pid, SIGCONT);
		return;
	}
	waker_pid = start_waker();
	if (waker_pid < 0)
		perror_msg("cannot start the waker process");
}

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
tracer_now(const struct tracer *t)
{
	return monotonic_ns() - t->start_ns;
}

/* Stamps an event, applies it to the model and hands it to the output. */
void
tracer_emit(struct tracer *t, struct ft_event *event)
{
	struct ft_process *process;

	event->time_ns = monotonic_ns() - t->start_ns;
	process = family_process(t->family, event->pid);
	if (!family_apply(t->family, event))
		return;
	t->out->ops->event(t->out, event, process);
}

struct task *
tracer_add_task(struct tracer *t, pid_t tid, pid_t tgid, unsigned flags)
{
	struct task *task = xmalloc(sizeof(*task));

	task->tid = tid;
	task->tgid = tgid;
	task->flags = flags;
	task->exit_stack = NULL;
	pidmap_put(&t->tasks, tid, task);
	if (flags & TASK_UNANNOUNCED)
		t->unannounced_count++;
	return task;
}

void
tracer_drop_task(struct tracer *t, struct task *task)
{
	pidmap_remove(&t->tasks, task->tid);
	if (task->flags & TASK_UNANNOUNCED)
		t->unannounced_count--;
	hang_forget(t, task);
	stack_free(task->exit_stack);
	free(task);
}

/* Captures the stack of a stopped thread when --stacks requests point. */
static struct ft_stack *
capture_stack(struct tracer *t, struct task *task, unsigned point)
{
	if (!t->stacks || !(t->opts->stacks & point))
		return NULL;
	return stacks_capture(t->stacks, task->tgid, task->tid);
}

/* Restarts a stopped thread, delivering signo (0 for none). */
static void
resume(struct task *task, int signo)
{
	if (ptrace(PTRACE_CONT, task->tid, 0L, (long)signo) < 0 &&
	    errno != ESRCH)
		perror_msg("cannot resume thread %d", (int)task->tid);
	/* ESRCH: it was killed while stopped; its death is reported next. */
}

/* Lets go of a stopped thread for good, delivering signo. */
static void
detach_task(struct tracer *t, struct task *task, int signo)
{
	if (ptrace(PTRACE_DETACH, task->tid, 0L, (long)signo) < 0 &&
	    errno != ESRCH)
		perror_msg("cannot detach from thread %d", (int)task->tid);
	debug_msg(task->tid, "detached, signal %d", signo);
	if (task->tid == task->tgid) {
		struct ft_event event = { .kind = FT_EVENT_DETACH,
					  .pid = task->tgid,
					  .tid = task->tid };

		tracer_emit(t, &event);
	}
	tracer_drop_task(t, task);
}

/* Continues a thread after a stop, or detaches it when letting go. */
void
tracer_release(struct tracer *t, struct task *task, int signo)
{
	if (t->detaching)
		detach_task(t, task, signo);
	else
		resume(task, signo);
}

/*
 * Returns true when a stopped thread may run on before its event is
 * emitted, so that it does not wait while the event is formatted.  The
 * output is then buffered and written later, where the order shows
 * nowhere.  A line to stderr, to a terminal or to where the program
 * writes is written at once, and stays ahead of what the thread prints
 * next.
 */
static bool
resume_before_emit(const struct tracer *t)
{
	return !t->detaching && !t->flush_at_once;
}

static void
interrupt_task(pid_t tid, void *value, void *data)
{
	struct tracer *t = data;
	struct task *task = value;

	(void)tid;
	if (task->flags & TASK_UNANNOUNCED) {
		/* Already stopped, and no creator's event will name it now. */
		detach_task(t, task, 0);
		return;
	}
	if (task->flags & TASK_AWAITING_FIRST_STOP)
		return; /* it is detached at its first stop */
	/*
	 * A leader that exited before its threads is a zombie: an interrupt
	 * succeeds but it never stops, and the kernel lets it go with the
	 * tracer.  Waiting for it would wait for the other threads' end.
	 */
	if (task->tid == task->tgid && procfs_is_zombie(task->tid)) {
		struct ft_event event = { .kind = FT_EVENT_DETACH,
					  .pid = task->tgid,
					  .tid = task->tid };

		tracer_emit(t, &event);
		tracer_drop_task(t, task);
		return;
	}
	if (ptrace(PTRACE_INTERRUPT, task->tid, 0L, 0L) < 0) {
		/* Gone, or a zombie leader that can no longer stop. */
		debug_msg(task->tid, "cannot interrupt: %s", strerror(errno));
		if (task->tid == task->tgid) {
			struct ft_event event = { .kind = FT_EVENT_DETACH,
						  .pid = task->tgid,
						  .tid = task->tid };

			tracer_emit(t, &event);
		}
		tracer_drop_task(t, task);
	}
}

/*
 * Starts letting go of the whole family: every thread is interrupted and
 * detached at its next stop, with any signal it was about to receive.
 */
static void
start_detaching(struct tracer *t)
{
	if (t->detaching)
		return;
	t->detaching = true;
	pause_release_all(t);
	pidmap_each(&t->tasks, interrupt_task, t);
}

/*
 * Lets a thread held in its first stop run on when its creator's event
 * can no longer come, because the creator's process has ended.  As long as
 * that process lives, its event is still due and names the child, so the
 * thread stays held: /proc names only the process, not the creating
 * thread.  A process whose creator is gone is followed as a root.
 */
static void
place_unannounced(pid_t tid, void *value, void *data)
{
	struct tracer *t = data;
	struct task *task = value;
	long tgid = 0, ppid = 0;
	struct ft_process *root;

	if (!(task->flags & TASK_UNANNOUNCED))
		return;
	if (procfs_read_status_field(tid, "Tgid", &tgid) < 0 ||
	    procfs_read_status_field(tid, "PPid", &ppid) < 0)
		return; /* its death is reported soon */

	if (tgid != tid) {
		if (family_process(t->family, (pid_t)tgid))
			return;
		task->tgid = (pid_t)tgid; /* it ends with its process */
	} else {
		if (family_process(t->family, (pid_t)ppid))
			return;
		root = family_add_root(t->family, tid, FT_ORIGIN_FORK,
				       monotonic_ns() - t->start_ns);
		root->ppid = (pid_t)ppid;
	}
	task->flags &= ~TASK_UNANNOUNCED;
	t->unannounced_count--;
	tracer_release(t, task, 0);
}

/*
 * Reports the end of a process that -p found with its leader exited, once
 * its last thread has ended: the leader, a zombie that cannot be seized,
 * gives no wait status of its own.  The last thread's status is the
 * process's.
 */
static void
end_leaderless(struct tracer *t, const struct ft_event *thread_end)
{
	const struct ft_process *process =
		family_process(t->family, thread_end->pid);
	struct ft_event event = { .kind = FT_EVENT_EXIT,
				  .pid = thread_end->pid,
				  .tid = thread_end->pid,
				  .status = thread_end->status };

	if (!pidmap_get(&t->leaderless, thread_end->pid) || !process ||
	    process->live_threads)
		return;
	pidmap_remove(&t->leaderless, thread_end->pid);
	tracer_emit(t, &event);
}

/* Handles the end of a thread or, for a leader, of its whole process. */
static void
handle_death(struct tracer *t, pid_t tid, int status)
{
	struct task *task = pidmap_get(&t->tasks, tid);
	struct ft_event event = { .kind = FT_EVENT_EXIT, .status = status };

	if (!task && pause_reap_helper(t, tid))
		return; /* an --on-pause command ended */
	snapshot_thread_ended(t, tid);
	if (!task || (task->flags & TASK_UNANNOUNCED)) {
		/*
		 * A new child can be killed before its creator's event
		 * names it.  Keep its status for that event.
		 */
		if (task)
			tracer_drop_task(t, task);
		pidmap_put(&t->lost_deaths, tid, (void *)(long)(status + 1));
		return;
	}

	event.pid = task->tgid;
	event.tid = tid;
	event.thread = task->tgid != tid;
	/*
	 * A thread reaped after its process began a group exit reports the
	 * group's status, not its own: its exit event stop had the truth.
	 */
	if (event.thread && (task->flags & TASK_EXITING))
		event.status = task->exit_status;
	event.stack = task->exit_stack;
	if (tid == t->root_pid) {
		t->root_ended = true;
		t->root_status = status;
		if (!t->root_execed)
			t->exec_error = launch_exec_error(&t->launch);
	}
	/* A failed exec of the command is reported as such, not as an exit. */
	if (!(tid == t->root_pid && t->exec_error))
		tracer_emit(t, &event);
	if (t->stacks && !event.thread)
		stacks_forget(t->stacks, event.pid);
	tracer_drop_task(t, task);
	if (event.thread && t->leaderless.count)
		end_leaderless(t, &event);

	if (tid == t->root_pid && t->opts->detach_on_exit)
		start_detaching(t);
	if (t->unannounced_count)
		pidmap_each(&t->tasks, place_unannounced, t);
}

/* Emits the fork and exit of a child that died before it was announced. */
static bool
report_lost_child(struct tracer *t, struct ft_event *fork_event)
{
	long value = (long)pidmap_get(&t->lost_deaths, fork_event->child);
	struct ft_event exit_event = { .kind = FT_EVENT_EXIT };

	if (!value)
		return false;
	pidmap_remove(&t->lost_deaths, fork_event->child);
	/* A living pid means the lost death was another process's. */
	if (kill(fork_event->child, 0) == 0)
		return false;

	tracer_emit(t, fork_event);
	exit_event.pid = fork_event->kind == FT_EVENT_THREAD
				 ? fork_event->pid
				 : fork_event->child;
	exit_event.tid = fork_event->child;
	exit_event.thread = fork_event->kind == FT_EVENT_THREAD;
	exit_event.status = (int)(value - 1);
	tracer_emit(t, &exit_event);
	return true;
}

/* Lets a new child run from its first stop, or hands it to a debugger. */
static void
start_child(struct tracer *t, struct task *child)
{
	if ((child->flags & TASK_PAUSE_AT_FIRST_STOP) && !t->detaching) {
		child->flags &= ~TASK_PAUSE_AT_FIRST_STOP;
		pause_hand_over(t, child, "fork", NULL);
		return;
	}
	tracer_release(t, child, 0);
}

/*
 * Returns the other threads of a forking process, which its child will
 * not have, or NULL when it has none.  Their stacks are taken when stacks
 * at forks are on; that handles the stops of other threads meanwhile.
 */
static struct ft_snapshot *
take_other_threads(struct tracer *t, const struct task *task)
{
	const struct ft_process *process =
		family_process(t->family, task->tgid);
	const struct ft_thread *thread;
	struct ft_snapshot *snapshot;
	pid_t *tids;
	size_t count = 0;

	if (!process || !process->live_threads)
		return NULL;
	tids = xcalloc(process->live_threads + 1, sizeof(*tids));
	if (task->tid != process->pid && pidmap_get(&t->tasks, process->pid))
		tids[count++] = process->pid;
	for (thread = process->threads; thread; thread = thread->next)
		if (!thread->ended && thread->tid != task->tid &&
		    count <= process->live_threads)
			tids[count++] = thread->tid;
	snapshot = snapshot_take_threads(
		t, tids, count,
		t->stacks && (t->opts->stacks & FT_STACKS_THREADS));
	free(tids);
	if (!snapshot->count) {
		snapshot_free(snapshot);
		return NULL;
	}
	return snapshot;
}

/*
 * Returns true when the clone event of task created a thread, not a
 * process.  pidfd_open() without PIDFD_THREAD accepts only a process's
 * leader and rejects any other thread at once, with EINVAL or, on recent
 * kernels such as 6.18, ENOENT.  That costs less than a path walk in
 * /proc, which took a tenth of forktrace's time in a thread-heavy
 * program.  Kernels without pidfd_open() fall back to /proc.
 */
static bool
clone_creates_thread(const struct task *task, pid_t child_tid)
{
	int fd = (int)syscall(SYS_pidfd_open, child_tid, 0);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	if (errno == EINVAL || errno == ENOENT)
		return true;
	return procfs_is_thread_of(task->tgid, child_tid);
}

/* Handles a fork, vfork or clone event stop of the creating thread. */
static void
handle_new_child(struct tracer *t, struct task *task, unsigned ptrace_event)
{
	struct ft_event event = { .pid = task->tgid, .tid = task->tid };
	struct ft_snapshot *other_threads = NULL;
	struct ft_stack_sample *sample;
	unsigned long message = 0;
	pid_t tid = task->tid;
	struct ft_stack *stack = NULL;
	bool resumed = false;
	struct task *child;
	unsigned pause;
	pid_t child_tid;

	if (ptrace(PTRACE_GETEVENTMSG, task->tid, 0L, &message) < 0) {
		resume(task, 0);
		return;
	}
	child_tid = (pid_t)message;
	event.child = child_tid;
	if (ptrace_event == PTRACE_EVENT_VFORK)
		event.kind = FT_EVENT_VFORK;
	else if (ptrace_event == PTRACE_EVENT_CLONE &&
		 clone_creates_thread(task, child_tid))
		event.kind = FT_EVENT_THREAD;
	else
		event.kind = FT_EVENT_FORK;

	if (event.kind == FT_EVENT_FORK) {
		other_threads = take_other_threads(t, task);
		/* Taking their stacks handled other stops: look again. */
		task = pidmap_get(&t->tasks, tid);
		if (!task) {
			snapshot_free(other_threads);
			return;
		}
	}
	child = pidmap_get(&t->tasks, child_tid);
	if (child && !(child->flags & TASK_UNANNOUNCED)) {
		/* Placed already, when an exec seemed to have lost this event.
		 */
		snapshot_free(other_threads);
		tracer_release(t, task, 0);
		return;
	}
	if (!child && t->lost_deaths.count && report_lost_child(t, &event)) {
		snapshot_free(other_threads);
		tracer_release(t, task, 0);
		return;
	}

	/*
	 * The caller runs on while the copy of its stack is unwound, unless
	 * forktrace is detaching: then it is let go at the end, as usual.
	 */
	if (t->stacks && (t->opts->stacks & FT_STACKS_FORK)) {
		sample = stacks_sample(t->stacks, task->tgid, task->tid);
		if (!t->detaching) {
			resume(task, 0);
			resumed = true;
		}
		stack = stacks_unwind(t->stacks, sample);
	} else if (resume_before_emit(t)) {
		resume(task, 0);
		resumed = true;
	}
	event.stack = stack;
	event.other_threads = other_threads;
	tracer_emit(t, &event);
	stack_free(stack);
	if (other_threads)
		hang_note_fork(t, task, child_tid, other_threads);
	snapshot_free(other_threads);
	if (t->stacks && event.kind != FT_EVENT_THREAD)
		stacks_fork(t->stacks, task->tgid, child_tid);
	pause = 0;
	if (t->opts->pause == FT_PAUSE_FORK && event.kind != FT_EVENT_THREAD &&
	    pause_applies(t, family_process(t->family, task->tgid)))
		pause = event.kind == FT_EVENT_VFORK ? TASK_PAUSE_AT_EXEC
						     : TASK_PAUSE_AT_FIRST_STOP;
	/*
	 * While letting go, a child whose first stop came first was detached
	 * at that stop: it is no longer traced, and no stop of it will come.
	 */
	if (!child && t->detaching &&
	    ptrace(PTRACE_INTERRUPT, child_tid, 0L, 0L) < 0) {
		debug_msg(child_tid, "detached before its creator's event");
	} else if (!child) {
		tracer_add_task(t, child_tid,
				event.kind == FT_EVENT_THREAD ? task->tgid
							      : child_tid,
				TASK_AWAITING_FIRST_STOP | pause);
	} else {
		/*
		 * Its first stop came first and held it: let it run now.
		 * NOTE: a held thread born into a group stop is let run too.
		 */
		child->tgid =
			event.kind == FT_EVENT_THREAD ? task->tgid : child_tid;
		child->flags &= ~TASK_UNANNOUNCED;
		child->flags |= pause;
		t->unannounced_count--;
		start_child(t, child);
	}
	if (!resumed)
		tracer_release(t, task, 0);
}

/*
 * Returns false when only the leader of process tgid can have called
 * execve(), which spares asking the kernel for the caller.  A new thread
 * runs only once its creator's event is in the model, so a process with
 * no live thread there has none.  Under -p a thread may run before
 * forktrace found it.
 */
static bool
might_exec_from_thread(const struct tracer *t, pid_t tgid)
{
	const struct ft_process *process = family_process(t->family, tgid);

	return t->attached || !process || process->live_threads;
}

struct lost_forks {
	pid_t tgid; /* the process that exec'd */
	pid_t *tids; /* its held children */
	size_t count;
	size_t capacity;
};

static void
collect_lost_fork(pid_t tid, void *value, void *data)
{
	struct lost_forks *lost = data;
	struct task *task = value;
	long ppid = 0;

	if (!(task->flags & TASK_UNANNOUNCED) || task->tgid != tid ||
	    procfs_read_status_field(tid, "PPid", &ppid) < 0 ||
	    (pid_t)ppid != lost->tgid)
		return;
	if (lost->count == lost->capacity)
		lost->tids =
			xgrow(lost->tids, &lost->capacity, sizeof(*lost->tids));
	lost->tids[lost->count++] = tid;
}

/*
 * Announces the children that process tgid's other threads made just
 * before its exec killed them.  Such a thread dies in its fork event stop,
 * or before it, and its event never comes, so its child would stay held
 * for the whole life of the new program.  Each is reported as a fork of
 * the process before its exec event, since it runs the former program.
 */
static void
announce_forks_lost_to_exec(struct tracer *t, pid_t tgid)
{
	struct lost_forks lost = { .tgid = tgid };
	size_t i;

	pidmap_each(&t->tasks, collect_lost_fork, &lost);
	for (i = 0; i < lost.count; i++) {
		struct task *child = pidmap_get(&t->tasks, lost.tids[i]);
		struct ft_event event = { .kind = FT_EVENT_FORK,
					  .pid = tgid,
					  .tid = tgid,
					  .child = lost.tids[i] };

		if (!child)
			continue;
		debug_msg(child->tid, "its fork event was lost to an exec");
		tracer_emit(t, &event);
		child->flags &= ~TASK_UNANNOUNCED;
		t->unannounced_count--;
		if (t->opts->pause == FT_PAUSE_FORK &&
		    pause_applies(t, family_process(t->family, tgid)))
			child->flags |= TASK_PAUSE_AT_FIRST_STOP;
		start_child(t, child);
	}
	free(lost.tids);
}

/* Handles the exec event stop; the thread now has the leader's pid. */
static void
handle_exec(struct tracer *t, struct task *task)
{
	struct ft_event event = { .kind = FT_EVENT_EXEC,
				  .pid = task->tgid,
				  .tid = task->tid };
	unsigned long former = task->tid;
	bool pause_at_exec, resumed;
	const struct ft_process *process;
	struct procfs_program program = { 0 };
	struct exec_mark mark;

	if (might_exec_from_thread(t, task->tgid) &&
	    ptrace(PTRACE_GETEVENTMSG, task->tid, 0L, &former) == 0 &&
	    (pid_t)former != task->tid) {
		/* A thread other than the leader called execve(). */
		struct task *former_task = pidmap_get(&t->tasks, (pid_t)former);

		if (former_task)
			tracer_drop_task(t, former_task);
	}
	if (t->unannounced_count)
		announce_forks_lost_to_exec(t, task->tgid);
	pause_at_exec = task->flags & TASK_PAUSE_AT_EXEC;
	task->flags = 0;
	if (task->tid == t->root_pid)
		t->root_execed = true;
	if (t->stacks)
		stacks_forget(t->stacks, task->tgid);

	exec_stack_read_program(task->tid, &program, &mark);
	event.former_tid = (pid_t)former;
	hang_note_exec(t, task->tgid);
	/* A pause at exec needs the event's program to decide. */
	resumed = !pause_at_exec && t->opts->pause != FT_PAUSE_EXEC &&
		  resume_before_emit(t);
	if (resumed)
		resume(task, 0);
	/* The exe link is read while the program runs, where it can. */
	exec_stack_read_exe(task->tid, &program, &mark, !resumed);
	event_set_program(&event, &program);
	tracer_emit(t, &event);
	procfs_program_free(&program);

	if (resumed)
		return;
	if (t->detaching) {
		tracer_release(t, task, 0);
	} else if (pause_at_exec) {
		pause_hand_over(t, task, "exec",
				"a vfork child is held at its exec, since its "
				"parent waits for it");
	} else if (t->opts->pause == FT_PAUSE_EXEC &&
		   (process = family_process(t->family, task->tgid)) &&
		   process->parent && pause_applies(t, process)) {
		/* Never a root: the program or a process that -p named. */
		pause_hand_over(t, task, "exec", NULL);
	} else {
		tracer_release(t, task, 0);
	}
}

/* Handles a signal-delivery stop: report the signal and deliver it. */
/* How long after Ctrl-\ a member's SIGQUIT from the kernel is withheld */
#define QUIT_KEY_WINDOW_NS 1000000000u

/*
 * Returns true when the terminal has just sent forktrace a SIGQUIT
 * (Ctrl-\), which it sent to the whole foreground group at once: to
 * forktrace it is the key for a snapshot, so the members do not get it.
 */
static bool
quit_key_pressed(const struct tracer *t)
{
	sigset_t pending;

	if (t->quit_key_ns &&
	    tracer_now(t) - t->quit_key_ns < QUIT_KEY_WINDOW_NS)
		return true;
	/* Queued, being taken, or taken and not handled yet. */
	return (sigpending(&pending) == 0 &&
		sigismember(&pending, SIGQUIT) == 1) ||
	       atomic_load(&taking) || signal_waiting(SIGQUIT);
}

/* Reads a SIGCHLD's report of a child's end as a wait status. */
static void
set_child_status(struct ft_event *event, const siginfo_t *si)
{
	event->child_ended = true;
	switch (si->si_code) {
	case CLD_EXITED:
		event->child_status = (si->si_status & 0xff) << 8;
		break;
	case CLD_KILLED:
		event->child_status = si->si_status & 0x7f;
		break;
	case CLD_DUMPED:
		event->child_status = (si->si_status & 0x7f) | 0x80;
		break;
	default:
		event->child_ended = false;
	}
}

static void
handle_signal(struct tracer *t, struct task *task, int signo)
{
	struct ft_event event = { .kind = FT_EVENT_SIGNAL,
				  .pid = task->tgid,
				  .tid = task->tid,
				  .signo = signo };
	struct ft_stack *stack = NULL;
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, task->tid, 0L, &si) == 0) {
		event.si_code = si.si_code;
		if (signal_code_has_sender(signo, si.si_code)) {
			event.has_sender = true;
			event.sender_pid = si.si_pid;
			event.sender_uid = si.si_uid;
		}
		if (signal_code_has_addr(signo, si.si_code)) {
			event.has_addr = true;
			event.fault_addr = (uint64_t)(uintptr_t)si.si_addr;
		}
		if (signo == SIGCHLD)
			set_child_status(&event, &si);
	}
	if (task->tgid == t->root_pid && signo <= 64)
		t->root_signal_ns[signo] = tracer_now(t);
	hang_note_signal(t, task);
	if (task->tgid == t->root_pid && signal_is_stop(signo))
		t->root_stop_from_outside =
			event.has_sender &&
			!family_thread_process(t->family, event.sender_pid) &&
			event.sender_pid != getpid();
	/* forktrace's own SIGCONT to a child it takes back. */
	if (signo == SIGCONT && event.has_sender &&
	    event.sender_pid == getpid() &&
	    pidmap_remove(&t->taking_back, task->tgid)) {
		tracer_release(t, task, signo);
		return;
	}
	/* The program got it itself: passing it on would repeat it. */
	if (task->tgid == t->root_pid && signo == t->forward_signo)
		t->forward_signo = 0;
	if (signo == SIGQUIT && event.si_code == SI_KERNEL &&
	    quit_key_pressed(t)) {
		tracer_release(t, task, 0);
		return;
	}
	if (signal_is_fatal_fault(signo))
		event.stack = stack = capture_stack(t, task, FT_STACKS_SIGNAL);
	if (resume_before_emit(t)) {
		resume(task, signo);
		tracer_emit(t, &event);
	} else {
		tracer_emit(t, &event);
		tracer_release(t, task, signo);
	}
	stack_free(stack);
	if (signo == SIGCHLD && event.si_code == CLD_CONTINUED &&
	    event.has_sender && t->paused.count)
		pause_check(t, event.sender_pid);
}

/* Counts the live processes that run: in no group stop, not paused. */
static void
count_running(pid_t pid, void *value, void *data)
{
	const struct ft_process *process = value;

	(void)pid;
	if (!process->stopped && !process->paused)
		(*(unsigned *)data)++;
}

/*
 * Continues the program's process group once forktrace, stopped with the
 * program, is continued.  The shell's fg continues forktrace's group,
 * which a program that moved to a group of its own has left, although
 * without forktrace that group would be the job.  A program that
 * something else continued meanwhile is left alone.
 */
static void
continue_root_elsewhere(struct tracer *t)
{
	const struct ft_process *root;
	pid_t group = getpgid(t->root_pid);

	if (group < 0 || group == getpgrp())
		return;
	/* The program's continue event may still be waiting in waitpid(). */
	tracer_drain_waits(t);
	root = family_process(t->family, t->root_pid);
	if (!root || !root->stopped)
		return;
	if (group == t->root_pid)
		kill(-group, SIGCONT);
	else
		kill(t->root_pid, SIGCONT);
}

/*
 * Stops forktrace itself, once per stop, when the launched program is in a
 * group stop and no other member runs.  A shell waits for forktrace, not
 * for the program, so a program that stops itself (as an editor does for
 * ^Z in raw mode) must stop forktrace too for the shell to see the job
 * stopped.  The shell's SIGCONT to the job continues both.  While another
 * member runs, forktrace goes on, because that member's next event needs
 * it: it may be the one that sends the program SIGCONT.  A stop that a
 * process outside the family sent stops the program alone, so that a
 * SIGCONT to the program alone continues it, as without forktrace.
 */
static void
stop_with_root(struct tracer *t)
{
	struct ft_process *root = family_process(t->family, t->root_pid);
	int signo = t->root_stop_signo;
	unsigned running = 0;
	pid_t watcher;

	if (!root || !root->stopped || t->root_stop_followed ||
	    t->root_stop_from_outside)
		return;
	family_each_live(t->family, count_running, &running);
	if (running)
		return;
	t->root_stop_followed = true;
	fflush(t->out->fp);
	/* A SIGCHLD from now on means a member needs forktrace running. */
	job_stop_forget_sigchld();
	watcher = job_stop_watch();
	if (watcher > 0)
		pidmap_put(&t->helpers, watcher, (void *)1);
	if (signo == SIGTSTP) {
		sigset_t tstp;

		/* Kept blocked otherwise; the stop comes at the unblock. */
		sigemptyset(&tstp);
		sigaddset(&tstp, SIGTSTP);
		raise(SIGTSTP);
		pthread_sigmask(SIG_UNBLOCK, &tstp, NULL);
		pthread_sigmask(SIG_BLOCK, &tstp, NULL);
	} else {
		/* SIGSTOP cannot be blocked; the others stop by default. */
		raise(signo == SIGSTOP ? SIGSTOP : signo);
	}
	continue_root_elsewhere(t);
	t->root_stop_followed = false;
}

/* Handles a PTRACE_EVENT_STOP: a first stop, a group stop or a trap. */
static void
handle_event_stop(struct tracer *t, struct task *task, int signo)
{
	struct ft_event event = { .pid = task->tgid,
				  .tid = task->tid,
				  .signo = signo };

	if (task->flags & TASK_AWAITING_FIRST_STOP) {
		task->flags &= ~TASK_AWAITING_FIRST_STOP;
		/*
		 * A first stop reports a stop signal when the thread was
		 * born into its process's group stop: it stays stopped too.
		 */
		if (!signal_is_stop(signo)) {
			start_child(t, task);
			return;
		}
	}

	if (signal_is_stop(signo)) {
		event.kind = FT_EVENT_STOP;
		/* The hand-over stop of a child being taken back is ours. */
		if (!pidmap_get(&t->taking_back, task->tgid))
			tracer_emit(t, &event);
		if (t->detaching) {
			/* Detached in a group stop, it stays stopped. */
			detach_task(t, task, 0);
			return;
		}
		if (ptrace(PTRACE_LISTEN, task->tid, 0L, 0L) < 0 &&
		    errno != ESRCH)
			perror_msg("cannot listen on thread %d",
				   (int)task->tid);
		task->flags |= TASK_LISTENING;
		if (task->tgid == t->root_pid)
			t->root_stop_signo = signo;
		/* The last member to stop may be one other than the program. */
		stop_with_root(t);
		return;
	}

	/* A listening thread reports a trap when SIGCONT ends its stop. */
	if (task->flags & TASK_LISTENING) {
		task->flags &= ~TASK_LISTENING;
		event.kind = FT_EVENT_CONTINUE;
		tracer_emit(t, &event);
	}
	tracer_release(t, task, 0);
}

/* Handles the exit event stop, taken before a thread releases anything. */
static void
handle_exit_stop(struct tracer *t, struct task *task)
{
	unsigned long message;

	/* The leader's wait status is the process's: no need to ask. */
	if (task->tid != task->tgid &&
	    ptrace(PTRACE_GETEVENTMSG, task->tid, 0L, &message) == 0) {
		task->flags |= TASK_EXITING;
		task->exit_status = (int)message;
	}
	if (!task->exit_stack)
		task->exit_stack = capture_stack(t, task, FT_STACKS_EXIT);
	task->flags |= TASK_EXIT_SEEN;
	hang_note_exit(t, task);
	tracer_release(t, task, 0);
}

static void
handle_stop(struct tracer *t, pid_t tid, int status)
{
	struct task *task = pidmap_get(&t->tasks, tid);
	unsigned ptrace_event = (unsigned)status >> 16;
	int signo = WSTOPSIG(status);

	if (!task) {
		/* A new child's first stop, before its creator's event. */
		debug_msg(tid, "held before its creator's event");
		tracer_add_task(t, tid, tid, TASK_UNANNOUNCED);
		if (t->detaching)
			detach_task(t, pidmap_get(&t->tasks, tid), 0);
		return;
	}

	if (t->snapshot)
		snapshot_capture_stop(t, task);
	switch (ptrace_event) {
	case 0:
		handle_signal(t, task, signo);
		break;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		handle_new_child(t, task, ptrace_event);
		break;
	case PTRACE_EVENT_EXEC:
		handle_exec(t, task);
		break;
	case PTRACE_EVENT_STOP:
		handle_event_stop(t, task, signo);
		break;
	case PTRACE_EVENT_EXIT:
		handle_exit_stop(t, task);
		break;
	default:
		tracer_release(t, task, 0);
		break;
	}
}

static void
forget_task(pid_t tid, void *value, void *data)
{
	(void)tid;
	tracer_drop_task(data, value);
}

/* Handles one wait status; a status of the waker only ends a wait. */
static void
handle_status(struct tracer *t, pid_t tid, int status)
{
	if (tid == waker_pid) {
		handle_waker_status(status);
		return;
	}
	/* waitpid() reports an --on-pause command's own stop too. */
	if (WIFSTOPPED(status) && pidmap_get(&t->helpers, tid))
		return;
	debug_msg(tid, "wait status 0x%x", (unsigned)status);
	if (WIFSTOPPED(status))
		handle_stop(t, tid, status);
	else if (WIFEXITED(status) || WIFSIGNALED(status))
		handle_death(t, tid, status);
}

/* Handles every wait status that is ready, without blocking. */
void
tracer_drain_waits(struct tracer *t)
{
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);

		if (tid == 0)
			return;
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				perror_msg("waitpid failed");
			/* Nothing is left to wait for, whatever we thought. */
			pidmap_each(&t->tasks, forget_task, t);
			return;
		}
		handle_status(t, tid, status);
	}
}

/*
 * Blocks until one wait status comes, and handles it.  WUNTRACED adds the
 * stops of forktrace's own untraced children: the waker's.
 */
static void
wait_for_status(struct tracer *t)
{
	int status;
	pid_t tid = waitpid(-1, &status, __WALL | WUNTRACED);

	if (tid > 0) {
		handle_status(t, tid, status);
		return;
	}
	if (errno == EINTR)
		return;
	if (errno != ECHILD)
		perror_msg_and_die("waitpid failed");
	/* Nothing is left to wait for, whatever we thought. */
	pidmap_each(&t->tasks, forget_task, t);
}

/*
 * Arms the wake timer for deadline_ns (time since the start; 0 for none),
 * unless it fires at or before that time already.  now_ns is the time.
 */
static void
arm_wake_timer(struct tracer *t, uint64_t deadline_ns, uint64_t now_ns)
{
	struct itimerspec spec = { { 0, 0 }, { 0, 0 } };
	uint64_t at;

	if (!deadline_ns || (t->wake_at_ns && t->wake_at_ns <= deadline_ns &&
			     t->wake_at_ns > now_ns))
		return;
	at = t->start_ns + deadline_ns;
	spec.it_value.tv_sec = (time_t)(at / 1000000000u);
	spec.it_value.tv_nsec = (long)(at % 1000000000u);
	if (timer_settime(t->wake_timer, TIMER_ABSTIME, &spec, NULL) < 0)
		perror_msg("cannot set the wake timer");
	t->wake_at_ns = deadline_ns;
}

void
tracer_wait_until(struct tracer *t, uint64_t deadline_ns)
{
	uint64_t now = tracer_now(t);

	if (now >= deadline_ns)
		return;
	arm_wake_timer(t, deadline_ns, now);
	wait_for_status(t);
}

/*
 * Returns true when the program got the signal that forktrace got, so
 * that passing it on would deliver it twice: the terminal and a kill() of
 * the whole process group send it to every member.  A pending or just
 * delivered signal of the same number in the program distinguishes a group kill
 * from one aimed at forktrace alone.
 */
/*
 * The age within which the program's own copy of a signal makes
 * forktrace's copy count as the same kill.  forktrace may read its own copy
 * late, as under valgrind, where its signal thread waits for its turn.
 */
#define GROUP_SIGNAL_WINDOW_NS 1000000000u

static bool
root_got_signal_too(struct tracer *t, int signo, int code)
{
	char path[64], *text;
	size_t len;
	bool pending = false;
	unsigned long long bit = 1ull << (signo - 1);

	if (code == SI_KERNEL)
		return true;
	/* A delivery stop that is already queued is seen here. */
	tracer_drain_waits(t);
	if (t->root_signal_ns[signo] &&
	    tracer_now(t) - t->root_signal_ns[signo] < GROUP_SIGNAL_WINDOW_NS)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->root_pid);
	if (procfs_read_file(path, &text, &len) == 0) {
		const char *keys[] = { "\nSigPnd:\t", "\nShdPnd:\t" };
		size_t i;

		for (i = 0; i < 2; i++) {
			const char *at = strstr(text, keys[i]);

			if (at &&
			    strtoull(at + strlen(keys[i]), NULL, 16) & bit)
				pending = true;
		}
		free(text);
	}
	return pending;
}

/*
 * How long a signal to forktrace waits before it is passed on.  A kill of
 * the process group reaches the program too, and its delivery can show
 * only a little after forktrace's own copy: within this delay it cancels
 * the forward.
 */
#define FORWARD_DELAY_NS 100000000u

/* The interval within which a second copy from one sender is a repeat */
#define REPEAT_WINDOW_NS 10000000u

/* How long a family may take to end after the first interrupt, unremarked */
#define INTERRUPT_NOTICE_DELAY_NS 1000000000u

/* Passes a signal on to the program once its delay is over. */
static void
forward_due_signal(struct tracer *t)
{
	if (!t->forward_signo || tracer_now(t) < t->forward_at_ns)
		return;
	/*
	 * The program's own copy may have been delivered already, with its
	 * stop still waiting to be read when forktrace is slow: read the
	 * stops first, and a delivery among them cancels the forward.
	 */
	tracer_drain_waits(t);
	if (t->forward_signo && !t->root_ended)
		kill(t->root_pid, t->forward_signo);
	t->forward_signo = 0;
}

/*
 * Handles the stops that Ctrl-\ causes in the members, for up to 50 ms,
 * so that the snapshot shows them where they were and not in a stop.
 */
static void
settle_quit_key(struct tracer *t)
{
	uint64_t deadline = tracer_now(t) + 50000000u;

	while (tracer_now(t) < deadline) {
		tracer_drain_waits(t);
		tracer_wait_until(t, deadline);
	}
}

/* Prints where every thread of the family is, and goes on tracing. */
static void
print_snapshot(struct tracer *t)
{
	struct ft_snapshot *snapshot = snapshot_take(t);

	t->out->ops->snapshot(t->out, t->family, snapshot);
	fflush(t->out->fp);
	snapshot_free(snapshot);
}

/*
 * Handles SIGINT, SIGTERM, SIGHUP or SIGQUIT sent to forktrace.  SIGQUIT
 * prints a snapshot.  The first of the others, while the launched program
 * lives, is passed on to it after FORWARD_DELAY_NS, unless the program got
 * it as well, and the trace goes on so that the tree shows how the family
 * ended.  Any further one, one after the program's end, or any under -p
 * lets go of the family at once.
 */
static void
handle_interrupt(struct tracer *t, int signo, int code, pid_t pid)
{
	char name[16];

	if (signo == SIGQUIT) {
		if (code == SI_KERNEL) {
			/* The members' copies of Ctrl-\ are withheld first. */
			t->quit_key_ns = tracer_now(t);
			settle_quit_key(t);
		}
		print_snapshot(t);
		return;
	}
	/*
	 * A member's kill of its own process group, which is forktrace's,
	 * reaches forktrace too, and the members got their copies: it is not
	 * the user's.  Under -p the family has groups of its own, and a
	 * member's signal to forktrace is meant for it.
	 */
	if (code <= 0 && pid > 0 && !t->attached &&
	    family_find_any(t->family, pid) &&
	    (getpgid(pid) == getpgrp() || getpgid(pid) < 0)) {
		debug_msg(pid, "sent %s to its process group",
			  signal_name(signo, name));
		return;
	}
	/*
	 * timeout(1) sends its signal to forktrace and then to the process
	 * group, forktrace included: the second copy is the same request.
	 */
	if (code <= 0 && signo == t->interrupt_signal &&
	    pid == t->interrupt_pid &&
	    tracer_now(t) - t->interrupt_ns < REPEAT_WINDOW_NS)
		return;
	t->interrupt_signal = signo;
	t->interrupt_pid = code <= 0 ? pid : 0;
	t->interrupt_ns = tracer_now(t);
	t->interrupt_count++;
	/* An attached family is left running at once, as it was. */
	if (t->interrupt_count == 1 && !t->root_ended && !t->attached) {
		if (!root_got_signal_too(t, signo, code)) {
			t->forward_signo = signo;
			t->forward_at_ns = tracer_now(t) + FORWARD_DELAY_NS;
		}
		if (t->opts->quiet < 2)
			t->interrupt_notice_at_ns =
				tracer_now(t) + INTERRUPT_NOTICE_DELAY_NS;
		return;
	}
	t->interrupt_notice_at_ns = 0;
	/* The first signal still reaches the program, as promised. */
	if (t->forward_signo) {
		t->forward_at_ns = 0;
		forward_due_signal(t);
	}
	if (!t->detaching && t->opts->quiet < 2)
		error_msg("%s: detaching from the family",
			  signal_name(signo, name));
	start_detaching(t);
}

/*
 * Prints how to let go of a family that outlived the first interrupt by
 * INTERRUPT_NOTICE_DELAY_NS.  A family that the signal ends, as Ctrl-C
 * usually does, ends before this, and nothing is printed.
 */
static void
print_interrupt_notice(struct tracer *t)
{
	char name[16];

	t->interrupt_notice_at_ns = 0;
	if (t->detaching)
		return;
	error_msg("%s: following the family to its end; "
		  "send it again to detach",
		  signal_name(t->interrupt_signal, name));
}

/* Handles each signal to forktrace that came since the last call. */
static void
handle_interrupts(struct tracer *t)
{
	size_t i;

	for (i = 0; i < ENDING_COUNT; i++) {
		while (handled[i] != received[i]) {
			handled[i]++;
			handle_interrupt(t, ending_signals[i], received_code[i],
					 received_pid[i]);
		}
	}
}

/* Returns the earliest time the loop has work at, or 0 for none. */
static uint64_t
next_deadline(const struct tracer *t)
{
	uint64_t times[] = { t->pause_tick_ns, 0,
			     t->forward_signo ? t->forward_at_ns : 0,
			     t->flush_at_ns, t->interrupt_notice_at_ns };
	uint64_t next = 0;
	size_t i;

	/* Paused children alone cannot hang: nothing traced is left. */
	if (t->tasks.count)
		times[1] = hang_next_tick(t);
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if (times[i] && (!next || times[i] < next))
			next = times[i];
	return next;
}

/*
 * Handles the signals to forktrace and the timers that are due, and
 * returns the time.  It reads the clock once when nothing is due.
 */
static uint64_t
handle_due_work(struct tracer *t)
{
	uint64_t now, hang_at;

	if (signal_waiting(0))
		handle_interrupts(t);
	now = tracer_now(t);
	if (t->pause_tick_ns && now >= t->pause_tick_ns)
		pause_tick(t);
	hang_at = hang_next_tick(t);
	if (hang_at && now >= hang_at)
		hang_tick(t);
	if (t->forward_signo && now >= t->forward_at_ns)
		forward_due_signal(t);
	if (t->interrupt_notice_at_ns && now >= t->interrupt_notice_at_ns)
		print_interrupt_notice(t);
	if (t->flush_at_ns && now >= t->flush_at_ns) {
		fflush(t->out->fp);
		t->flush_at_ns = 0;
	}
	return now;
}

/* How long a timeline line may wait in the buffer of a file or a pipe */
#define FLUSH_DELAY_NS 50000000u

/*
 * Flushes the timeline's buffered lines before the loop sleeps, or sets
 * when to.  A terminal, or the stream that the program writes to, gets
 * them at once.  Another file or pipe gets them at most FLUSH_DELAY_NS
 * after the first of them, so a busy family costs one write a batch, not
 * one a wait.
 */
static void
schedule_flush(struct tracer *t, uint64_t now)
{
	if (!__fpending(t->out->fp))
		return;
	if (t->flush_at_once)
		fflush(t->out->fp);
	else if (!t->flush_at_ns)
		t->flush_at_ns = now + FLUSH_DELAY_NS;
}

static void
run_loop(struct tracer *t)
{
	for (;;) {
		uint64_t now = handle_due_work(t);

		/* Paused children are members too: the trace waits for them. */
		if (!t->tasks.count && !t->paused.count)
			break;
		schedule_flush(t, now);
		arm_wake_timer(t, next_deadline(t), now);
		wait_for_status(t);
	}
}

/*
 * Starts the waker and the thread that takes the ending signals and the
 * wake timer's SIGALRM, and creates that timer.  A signal that forktrace was
 * started with ignored (as under nohup) stays ignored, for it and for the
 * program, as without forktrace.  The program starts with the mask that
 * forktrace had.
 */
static void
setup_signals(struct tracer *t)
{
	sigset_t own_blocked;
	struct sigevent timer_event;
	struct sigaction action;
	pthread_t thread;
	size_t i;

	sigemptyset(&thread_signals);
	sigaddset(&thread_signals, SIGALRM);
	for (i = 0; i < ENDING_COUNT; i++)
		if (sigaction(ending_signals[i], NULL, &action) == 0 &&
		    action.sa_handler != SIG_IGN)
			sigaddset(&thread_signals, ending_signals[i]);
	if (pthread_sigmask(SIG_BLOCK, &thread_signals, &t->child_mask))
		error_msg_and_die("cannot block signals");
	/*
	 * A reader of an output that goes away gives EPIPE, which the writers
	 * report, rather than a SIGPIPE that would end forktrace.  The
	 * program starts with child_mask, without them.
	 */
	sigemptyset(&own_blocked);
	sigaddset(&own_blocked, SIGPIPE);
	/*
	 * The terminal's ^Z must not stop forktrace before the program has
	 * its SIGTSTP: a program with a handler (an editor, a pager) stops
	 * itself from there, and stop_with_root() follows that stop.
	 */
	sigaddset(&own_blocked, SIGTSTP);
	/* Kept pending, for job_stop_watch() to see (tracer/job_stop.c) */
	sigaddset(&own_blocked, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &own_blocked, NULL))
		error_msg_and_die("cannot block SIGPIPE, SIGTSTP and SIGCHLD");
	if (pipe2(waker_pipe, O_CLOEXEC) < 0 ||
	    fcntl(waker_pipe[1], F_SETFL, O_NONBLOCK) < 0)
		perror_msg_and_die("cannot create a pipe");
	waker_pid = start_waker();
	if (waker_pid < 0)
		perror_msg_and_die("cannot start the waker process");

	memset(&timer_event, 0, sizeof(timer_event));
	timer_event.sigev_notify = SIGEV_SIGNAL;
	timer_event.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &timer_event, &t->wake_timer) < 0)
		perror_msg_and_die("cannot create a timer");
	t->wake_timer_created = true;
	signal_fd = signalfd(-1, &thread_signals, SFD_CLOEXEC);
	if (signal_fd < 0)
		perror_msg_and_die("cannot create a signalfd");
	if (pthread_create(&thread, NULL, take_signals, &signal_fd) ||
	    pthread_detach(thread))
		error_msg_and_die("cannot start the signal thread");
}

/* Ends the waker, which would otherwise end only with forktrace. */
static void
stop_waker(void)
{
	if (waker_pid <= 0)
		return;
	kill(waker_pid, SIGKILL);
	while (waitpid(waker_pid, NULL, 0) < 0 && errno == EINTR)
		;
	waker_pid = 0;
}

/* Computes forktrace's exit status from how the trace ended. */
static int
exit_status(const struct tracer *t, int *end_signal)
{
	*end_signal = 0;
	if (t->attached)
		return t->attach_failures ? 1 : 0;
	if (t->exec_error)
		return WIFEXITED(t->root_status) ? WEXITSTATUS(t->root_status)
						 : 127;
	if (t->root_ended) {
		if (WIFEXITED(t->root_status))
			return WEXITSTATUS(t->root_status);
		if (WIFSIGNALED(t->root_status)) {
			*end_signal = WTERMSIG(t->root_status);
			return 128 + *end_signal;
		}
	}
	if (t->interrupt_signal) {
		*end_signal = t->interrupt_signal;
		return 128 + *end_signal;
	}
	return 1;
}

/*
 * Reports why the command could not be run.  A script whose "#!" names a
 * missing interpreter fails with ENOENT although the script exists, so the
 * message names the interpreter then.
 */
static void
report_exec_error(const char *command, int err)
{
	char line[256];
	bool shebang = false;
	struct stat st;
	FILE *fp;

	if (err == ENOENT && strchr(command, '/')) {
		fp = fopen(command, "re");
		if (fp) {
			shebang = fgets(line, sizeof(line), fp) &&
				  !strncmp(line, "#!", 2);
			fclose(fp);
		}
	}
	if (shebang) {
		char *interpreter = line + 2;

		interpreter += strspn(interpreter, " \t");
		interpreter[strcspn(interpreter, " \t\n")] = '\0';
		error_msg("cannot run '%s': its interpreter '%s' was not found",
			  message_text(command), message_text(interpreter));
		return;
	}
	/* execve() fails on a directory with EACCES, as on any non-file. */
	if (err == EACCES && strchr(command, '/') && stat(command, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		err = EISDIR;
	errno = err;
	perror_msg("cannot run '%s'", message_text(command));
}

/*
 * Returns the descriptor that path names among those forktrace was started
 * with (/dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N), or -1.
 */
static int
inherited_descriptor(const char *path)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };
	size_t i;

	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t len = strlen(prefixes[i]);
		char *end;
		long fd;

		if (strncmp(path, prefixes[i], len) ||
		    !isdigit((unsigned char)path[len]))
			continue;
		errno = 0;
		fd = strtol(path + len, &end, 10);
		if (!*end && !errno && fd <= INT_MAX)
			return (int)fd;
	}
	return -1;
}

/*
 * Opens the timeline's file.  One of forktrace's own descriptors is
 * shared, not opened anew: a new open would truncate a file that the
 * shell opened to append to, and write over what the program writes there
 * from an offset of its own.
 */
static FILE *
open_output(const struct ft_options *opts)
{
	int fd = -1;
	FILE *fp;

	if (!opts->output_path)
		return stderr;
	fd = inherited_descriptor(opts->output_path);
	if (fd >= 0) {
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	} else {
		fp = fopen(opts->output_path, "we");
	}
	if (!fp)
		perror_msg_and_die("cannot open '%s'",
				   message_text(opts->output_path));
	return fp;
}

/*
 * Returns true when descriptor fd is the same pipe, socket or file as
 * descriptor other.
 */
static bool
same_stream(int fd, int other)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstat(other, &b) == 0 &&
	       !S_ISCHR(a.st_mode) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int
tracer_run(const struct ft_options *opts, int *end_signal)
{
	struct tracer t = { .opts = opts };
	struct ft_summary summary = { 0 };
	FILE *fp = open_output(opts);
	int status;

	*end_signal = 0;
	/*
	 * Lines go out at once to a terminal, and where the program writes
	 * too, so that they keep their place among its lines.
	 */
	t.flush_at_once = fp == stderr || isatty(fileno(fp)) ||
			  same_stream(fileno(fp), 1) ||
			  same_stream(fileno(fp), 2);
	if (t.flush_at_once && fp != stderr)
		setvbuf(fp, NULL, _IOLBF, 0);
	setup_signals(&t);
	t.family = family_new();
	if (opts->stacks)
		t.stacks = stacks_new(opts->stack_depth, opts->verbose > 0,
				      opts->python);
	t.out = output_new(opts, fp);
	t.start_ns = monotonic_ns();
	if (!opts->snapshot)
		hang_start(&t);

	t.launch.error_fd = -1;
	if (opts->attach_count) {
		t.attached = true;
		t.out->ops->begin(t.out);
		t.attach_failures = attach_family(&t, opts->attach_pids,
						  opts->attach_count);
		if (!family_process_count(t.family)) {
			status = 1;
			goto out;
		}
		if (opts->snapshot) {
			/* Group stops are reported at the seize: take them. */
			tracer_drain_waits(&t);
			print_snapshot(&t);
			start_detaching(&t);
		}
	} else {
		if (launch_command(opts->command,
				   seize_options(opts->kill_on_exit),
				   &t.child_mask, &t.launch) < 0) {
			status = 1;
			goto out;
		}
		t.root_pid = t.launch.pid;
		tracer_add_task(&t, t.root_pid, t.root_pid, 0);
		family_add_root(t.family, t.root_pid, FT_ORIGIN_ROOT, 0)->ppid =
			getpid();
		t.out->ops->begin(t.out);
	}

	run_loop(&t);
	pause_release_all(&t);
	if (t.launch.error_fd >= 0)
		close(t.launch.error_fd);

	status = exit_status(&t, end_signal);
	if (t.exec_error) {
		report_exec_error(opts->command[0], t.exec_error);
		goto out;
	}

	summary.time_ns = monotonic_ns() - t.start_ns;
	summary.exit_status = status;
	summary.root_ended = t.root_ended;
	summary.root_status = t.root_status;
	summary.interrupt_signal = t.interrupt_signal;
	if (!opts->snapshot)
		t.out->ops->end(t.out, t.family, &summary);

out:
	output_free(t.out);
	if (fp != stderr && fclose(fp) != 0)
		perror_msg("cannot write '%s'", opts->output_path);
	family_free(t.family);
	pidmap_each(&t.tasks, forget_task, &t);
	pidmap_free(&t.tasks);
	pidmap_free(&t.lost_deaths);
	pidmap_free(&t.leaderless);
	hang_stop(&t);
	stacks_free(t.stacks);
	stacks_free(t.snapshot_own_stacks);
	if (t.wake_timer_created)
		timer_delete(t.wake_timer);
	stop_waker();
	pidmap_free(&t.paused);
	pidmap_free(&t.helpers);
	pidmap_free(&t.taking_back);
	return status;
}

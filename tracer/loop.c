/*
 * The ptrace event loop.
 *
 * forktrace seizes the program it launches with PTRACE_SEIZE and the fork,
 * vfork, clone, exec and exit options; the kernel then attaches every new
 * child and thread to it.  There are no system-call stops.  The loop polls a
 * signalfd: on SIGCHLD it drains waitpid(-1, __WALL | WNOHANG), turns each
 * stop into an event, feeds it to the family model and the output, and
 * resumes the thread.  Every resume decision is made in this file.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/family.h"
#include "forktrace/launch.h"
#include "forktrace/output.h"
#include "forktrace/pidmap.h"
#include "forktrace/procfs.h"
#include "forktrace/seize.h"
#include "forktrace/stacks.h"
#include "forktrace/tracer.h"
#include "forktrace/xmalloc.h"

enum task_flag {
	/* Its creator's event named it; its first stop has not come yet. */
	TASK_AWAITING_FIRST_STOP = 1u << 0,
	/* Held in its first stop until its creator's event names it. */
	TASK_UNANNOUNCED = 1u << 1,
	/* In a group stop, resumed with PTRACE_LISTEN. */
	TASK_LISTENING = 1u << 2,
	/* Passed its exit event stop; exit_status is its own status. */
	TASK_EXITING = 1u << 3,
};

/* The tracer's view of one traced thread. */
struct task {
	pid_t tid;
	pid_t tgid;
	unsigned flags;
	int exit_status; /* valid with TASK_EXITING */
	struct ft_stack *exit_stack; /* taken at its exit event stop */
};

struct tracer {
	const struct ft_options *opts;
	struct ft_family *family;
	struct ft_output *out;
	struct ft_stacks *stacks; /* NULL under --stacks=none */
	struct pidmap tasks; /* tid -> struct task, every traced one */
	struct pidmap lost_deaths; /* tid -> wait status + 1, see below */
	unsigned unannounced_count;
	uint64_t start_ns;
	int signal_fd;
	sigset_t child_mask;

	struct launch launch;
	pid_t root_pid;
	bool root_execed;
	bool root_ended;
	int root_status;
	int exec_error;

	bool detaching;
	int interrupt_signal;
	unsigned interrupt_count;
};

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Stamps an event, applies it to the model and hands it to the output. */
static void
emit(struct tracer *t, struct ft_event *event)
{
	struct ft_process *process;

	event->time_ns = monotonic_ns() - t->start_ns;
	process = family_process(t->family, event->pid);
	if (!family_apply(t->family, event))
		return;
	t->out->ops->event(t->out, event, process);
}

static struct task *
add_task(struct tracer *t, pid_t tid, pid_t tgid, unsigned flags)
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

static void
drop_task(struct tracer *t, struct task *task)
{
	pidmap_remove(&t->tasks, task->tid);
	if (task->flags & TASK_UNANNOUNCED)
		t->unannounced_count--;
	stack_free(task->exit_stack);
	free(task);
}

/* Captures the stack of a stopped thread when --stacks asks for point. */
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

		emit(t, &event);
	}
	drop_task(t, task);
}

/* Continues a thread after a stop, or detaches it when letting go. */
static void
release(struct tracer *t, struct task *task, int signo)
{
	if (t->detaching)
		detach_task(t, task, signo);
	else
		resume(task, signo);
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
	if (ptrace(PTRACE_INTERRUPT, task->tid, 0L, 0L) < 0) {
		/* Gone, or a zombie leader that can no longer stop. */
		debug_msg(task->tid, "cannot interrupt: %s", strerror(errno));
		if (task->tid == task->tgid) {
			struct ft_event event = { .kind = FT_EVENT_DETACH,
						  .pid = task->tgid,
						  .tid = task->tid };

			emit(t, &event);
		}
		drop_task(t, task);
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
	release(t, task, 0);
}

/* Handles the end of a thread or, for a leader, of its whole process. */
static void
handle_death(struct tracer *t, pid_t tid, int status)
{
	struct task *task = pidmap_get(&t->tasks, tid);
	struct ft_event event = { .kind = FT_EVENT_EXIT, .status = status };

	if (!task || (task->flags & TASK_UNANNOUNCED)) {
		/*
		 * A new child can be killed before its creator's event
		 * names it.  Keep its status for that event.
		 */
		if (task)
			drop_task(t, task);
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
		emit(t, &event);
	if (t->stacks && !event.thread)
		stacks_forget(t->stacks, event.pid);
	drop_task(t, task);

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

	emit(t, fork_event);
	exit_event.pid = fork_event->kind == FT_EVENT_THREAD
				 ? fork_event->pid
				 : fork_event->child;
	exit_event.tid = fork_event->child;
	exit_event.thread = fork_event->kind == FT_EVENT_THREAD;
	exit_event.status = (int)(value - 1);
	emit(t, &exit_event);
	return true;
}

/* Handles a fork, vfork or clone event stop of the creating thread. */
static void
handle_new_child(struct tracer *t, struct task *task, unsigned ptrace_event)
{
	struct ft_event event = { .pid = task->tgid, .tid = task->tid };
	unsigned long message = 0;
	struct ft_stack *stack;
	struct task *child;
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
		 procfs_is_thread_of(task->tgid, child_tid))
		event.kind = FT_EVENT_THREAD;
	else
		event.kind = FT_EVENT_FORK;

	child = pidmap_get(&t->tasks, child_tid);
	if (!child && t->lost_deaths.count && report_lost_child(t, &event)) {
		release(t, task, 0);
		return;
	}

	stack = capture_stack(t, task, FT_STACKS_FORK);
	event.stack = stack;
	emit(t, &event);
	stack_free(stack);
	if (t->stacks && event.kind != FT_EVENT_THREAD)
		stacks_fork(t->stacks, task->tgid, child_tid);
	if (!child) {
		add_task(t, child_tid,
			 event.kind == FT_EVENT_THREAD ? task->tgid : child_tid,
			 TASK_AWAITING_FIRST_STOP);
	} else {
		/* Its first stop came first and held it: let it run now. */
		child->tgid =
			event.kind == FT_EVENT_THREAD ? task->tgid : child_tid;
		child->flags &= ~TASK_UNANNOUNCED;
		t->unannounced_count--;
		release(t, child, 0);
	}
	release(t, task, 0);
}

/* Handles the exec event stop; the thread now has the leader's pid. */
static void
handle_exec(struct tracer *t, struct task *task)
{
	struct ft_event event = { .kind = FT_EVENT_EXEC,
				  .pid = task->tgid,
				  .tid = task->tid };
	unsigned long former = task->tid;
	char comm[16] = "";
	char *path = NULL, *args = NULL;
	size_t args_len = 0;

	if (ptrace(PTRACE_GETEVENTMSG, task->tid, 0L, &former) == 0 &&
	    (pid_t)former != task->tid) {
		/* A thread other than the leader called execve(). */
		struct task *former_task = pidmap_get(&t->tasks, (pid_t)former);

		if (former_task)
			drop_task(t, former_task);
	}
	task->flags = 0;
	if (task->tid == t->root_pid)
		t->root_execed = true;
	if (t->stacks)
		stacks_forget(t->stacks, task->tgid);

	procfs_read_exe(task->tid, &path);
	procfs_read_comm(task->tid, comm);
	procfs_read_cmdline(task->tid, &args, &args_len);
	event.path = path;
	event.comm = comm;
	event.args.data = args;
	event.args.len = args_len;
	event.former_tid = (pid_t)former;
	emit(t, &event);
	free(path);
	free(args);
	release(t, task, 0);
}

/* Handles a signal-delivery stop: report the signal and deliver it. */
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
	}
	if (signal_is_fatal_fault(signo))
		event.stack = stack = capture_stack(t, task, FT_STACKS_SIGNAL);
	emit(t, &event);
	stack_free(stack);
	release(t, task, signo);
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
		release(t, task, 0);
		return;
	}

	if (signal_is_stop(signo)) {
		event.kind = FT_EVENT_STOP;
		emit(t, &event);
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
		return;
	}

	/* A listening thread reports a trap when SIGCONT ends its stop. */
	if (task->flags & TASK_LISTENING) {
		task->flags &= ~TASK_LISTENING;
		event.kind = FT_EVENT_CONTINUE;
		emit(t, &event);
	}
	release(t, task, 0);
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
	release(t, task, 0);
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
		add_task(t, tid, tid, TASK_UNANNOUNCED);
		if (t->detaching)
			detach_task(t, pidmap_get(&t->tasks, tid), 0);
		return;
	}

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
		release(t, task, 0);
		break;
	}
}

static void
forget_task(pid_t tid, void *value, void *data)
{
	(void)tid;
	drop_task(data, value);
}

/* Handles every wait status that is ready, without blocking. */
static void
drain_waits(struct tracer *t)
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
		debug_msg(tid, "wait status 0x%x", (unsigned)status);
		if (WIFSTOPPED(status))
			handle_stop(t, tid, status);
		else if (WIFEXITED(status) || WIFSIGNALED(status))
			handle_death(t, tid, status);
	}
}

/*
 * Handles SIGINT, SIGTERM or SIGHUP sent to forktrace.  The first one, while
 * the launched program lives, is passed on to it (unless it came from the
 * terminal, which sent it to the whole foreground group already) and the
 * trace goes on, so that the tree shows how the family ended.  Any further
 * one, or one after the program's end, lets go of the family at once.
 */
static void
handle_interrupt(struct tracer *t, const struct signalfd_siginfo *si)
{
	int signo = (int)si->ssi_signo;
	char name[16];

	t->interrupt_signal = signo;
	t->interrupt_count++;
	if (t->interrupt_count == 1 && !t->root_ended) {
		if (si->ssi_code != SI_KERNEL)
			kill(t->root_pid, signo);
		error_msg("%s: following the family to its end; "
			  "send it again to detach",
			  signal_name(signo, name));
		return;
	}
	if (!t->detaching)
		error_msg("%s: detaching from the family",
			  signal_name(signo, name));
	start_detaching(t);
}

/* Reads the signals that are waiting on the signalfd. */
static void
read_signals(struct tracer *t)
{
	struct signalfd_siginfo si[8];
	ssize_t n;
	size_t i;

	n = read(t->signal_fd, si, sizeof(si));
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			perror_msg("cannot read the signalfd");
		return;
	}
	for (i = 0; i < (size_t)n / sizeof(si[0]); i++)
		if (si[i].ssi_signo != SIGCHLD)
			handle_interrupt(t, &si[i]);
}

static void
run_loop(struct tracer *t)
{
	struct pollfd pfd = { .fd = t->signal_fd, .events = POLLIN };

	while (t->tasks.count) {
		drain_waits(t);
		if (!t->tasks.count)
			break;
		fflush(t->out->fp);
		if (poll(&pfd, 1, -1) < 0) {
			if (errno != EINTR)
				perror_msg_and_die("poll failed");
			continue;
		}
		read_signals(t);
	}
}

static void
setup_signals(struct tracer *t)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &t->child_mask) < 0)
		perror_msg_and_die("cannot block signals");
	t->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (t->signal_fd < 0)
		perror_msg_and_die("cannot create a signalfd");
}

/* Computes forktrace's exit status from how the trace ended. */
static int
exit_status(const struct tracer *t)
{
	if (t->exec_error)
		return WIFEXITED(t->root_status) ? WEXITSTATUS(t->root_status)
						 : 127;
	if (t->root_ended) {
		if (WIFEXITED(t->root_status))
			return WEXITSTATUS(t->root_status);
		if (WIFSIGNALED(t->root_status))
			return 128 + WTERMSIG(t->root_status);
	}
	if (t->interrupt_signal)
		return 128 + t->interrupt_signal;
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
			  command, interpreter);
		return;
	}
	errno = err;
	perror_msg("cannot run '%s'", command);
}

static FILE *
open_output(const struct ft_options *opts)
{
	FILE *fp;

	if (!opts->output_path)
		return stderr;
	fp = fopen(opts->output_path, "we");
	if (!fp)
		perror_msg_and_die("cannot open '%s'", opts->output_path);
	return fp;
}

int
tracer_run(const struct ft_options *opts)
{
	struct tracer t = { .opts = opts, .signal_fd = -1 };
	struct ft_summary summary = { 0 };
	FILE *fp = open_output(opts);
	int status;

	setup_signals(&t);
	t.family = family_new();
	if (opts->stacks)
		t.stacks = stacks_new(opts->stack_depth);
	t.out = output_new(opts, fp);
	t.start_ns = monotonic_ns();

	if (launch_command(opts->command, seize_options(opts->kill_on_exit),
			   &t.child_mask, &t.launch) < 0) {
		status = 1;
		goto out;
	}
	t.root_pid = t.launch.pid;
	add_task(&t, t.root_pid, t.root_pid, 0);
	family_add_root(t.family, t.root_pid, FT_ORIGIN_ROOT, 0)->ppid =
		getpid();
	t.out->ops->begin(t.out);

	run_loop(&t);
	if (t.launch.error_fd >= 0)
		close(t.launch.error_fd);

	status = exit_status(&t);
	if (t.exec_error) {
		report_exec_error(opts->command[0], t.exec_error);
		goto out;
	}

	summary.time_ns = monotonic_ns() - t.start_ns;
	summary.exit_status = status;
	summary.root_ended = t.root_ended;
	summary.root_status = t.root_status;
	summary.interrupt_signal = t.interrupt_signal;
	t.out->ops->end(t.out, t.family, &summary);

out:
	output_free(t.out);
	if (fp != stderr && fclose(fp) != 0)
		perror_msg("cannot write '%s'", opts->output_path);
	family_free(t.family);
	pidmap_each(&t.tasks, forget_task, &t);
	pidmap_free(&t.tasks);
	pidmap_free(&t.lost_deaths);
	stacks_free(t.stacks);
	close(t.signal_fd);
	return status;
}

/*
 * Pausing new children for a debugger, and taking them back.
 *
 * A child is handed over in a group stop: forktrace detaches it with
 * SIGSTOP, so it stops before it runs anything more, untraced, and any
 * ptrace debugger can attach.  A timer then reads each paused child's
 * /proc status.  When a debugger attaches, forktrace sends SIGCONT, which
 * ends the group stop so that one `continue` in the debugger runs the
 * child on.  When the debugger leaves, or a SIGCONT comes without one, or
 * the --pause-timeout passes, forktrace seizes the child again, with its
 * threads and the descendants it made meanwhile, and resumes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/escape.h"
#include "forktrace/handoff.h"
#include "forktrace/loop.h"
#include "forktrace/procfs.h"
#include "forktrace/seize.h"
#include "forktrace/xmalloc.h"

/* How often paused children are looked at, in milliseconds. */
#define PAUSE_TICK_MS 10
/* How long a hand-over waits for the child's stop to take effect. */
#define STOP_WAIT_NS 100000000u

struct paused_child {
	pid_t pid;
	pid_t ppid;
	char comm[16];
	uint64_t since_ns;
	bool seen_stopped; /* its hand-over stop has taken effect */
	bool taken_back; /* seized again: one more rescan is due */
	pid_t debugger; /* the debugger attached to it, or 0 */
};

static bool
matches(const char *pattern, const char *name)
{
	const char *slash;

	if (!name || !*name)
		return false;
	if (fnmatch(pattern, name, 0) == 0)
		return true;
	slash = strrchr(name, '/');
	return slash && fnmatch(pattern, slash + 1, 0) == 0;
}

bool
pause_applies(const struct tracer *t, const struct ft_process *process)
{
	const struct ft_options *opts = t->opts;
	const char *path;
	unsigned i;

	if (!opts->pause || !process)
		return false;
	if (!opts->pause_pattern_count)
		return true;
	path = process->program ? process->program->path : NULL;
	for (i = 0; i < opts->pause_pattern_count; i++)
		if (matches(opts->pause_patterns[i], process_comm(process)) ||
		    matches(opts->pause_patterns[i], path))
			return true;
	return false;
}

/* Starts or stops the loop's checks of paused children. */
static void
arm_timer(struct tracer *t, bool on)
{
	if (!on)
		t->pause_tick_ns = 0;
	else if (!t->pause_tick_ns)
		t->pause_tick_ns = tracer_now(t) + PAUSE_TICK_MS * 1000000ull;
}

/* Runs the --on-pause command for a child that was just paused. */
static void
run_on_pause(struct tracer *t, const struct paused_child *paused)
{
	const char *why = NULL;
	char **words = handoff_split_words(t->opts->on_pause, &why);
	char **argv;
	pid_t pid;

	if (!words)
		return; /* the option parser checked it already */
	argv = handoff_substitute(words, paused->pid, paused->ppid,
				  paused->comm);
	pid = handoff_spawn(argv);
	if (pid < 0)
		perror_msg("cannot run the --on-pause command '%s'", argv[0]);
	else
		pidmap_put(&t->helpers, pid, (void *)1);
	handoff_free_words(argv);
	handoff_free_words(words);
}

/*
 * Waits until the SIGSTOP of a hand-over has taken effect, for at most
 * STOP_WAIT_NS, so that a SIGCONT sent after the pause line cannot come
 * first: a SIGCONT discards a stop signal that is still pending.
 */
static void
wait_for_stop(struct tracer *t, struct paused_child *paused)
{
	struct handoff_state state;

	while (tracer_now(t) - paused->since_ns < STOP_WAIT_NS) {
		if (handoff_read_state(paused->pid, &state) < 0 || state.gone ||
		    state.tracer)
			return;
		if (state.stopped) {
			paused->seen_stopped = true;
			return;
		}
		sched_yield();
	}
}

void
pause_hand_over(struct tracer *t, struct task *task, const char *point,
		const char *note)
{
	struct ft_event event = { .kind = FT_EVENT_PAUSE,
				  .pid = task->tgid,
				  .tid = task->tid,
				  .pause_point = point,
				  .pause_note = note };
	struct ft_process *process = family_process(t->family, task->tgid);
	struct paused_child *paused;

	/*
	 * PTRACE_DETACH delivers a signal only from a signal-delivery stop,
	 * and this is an event stop: so queue the SIGSTOP first.  The child
	 * takes it on its way back to user space, before any instruction.
	 */
	if (syscall(SYS_tgkill, task->tgid, task->tid, SIGSTOP) < 0 ||
	    ptrace(PTRACE_DETACH, task->tid, 0L, 0L) < 0) {
		perror_msg("cannot hand over pid %d", (int)task->tid);
		tracer_release(t, task, 0);
		return;
	}
	paused = xcalloc(1, sizeof(*paused));
	paused->pid = task->tgid;
	paused->ppid = process ? process->ppid : 0;
	snprintf(paused->comm, sizeof(paused->comm), "%s",
		 process ? process_comm(process) : "?");
	paused->since_ns = tracer_now(t);
	pidmap_put(&t->paused, paused->pid, paused);
	tracer_drop_task(t, task);
	wait_for_stop(t, paused);

	tracer_emit(t, &event);
	fflush(t->out->fp);
	if (t->opts->on_pause)
		run_on_pause(t, paused);
	arm_timer(t, true);
}

static void
emit_simple(struct tracer *t, enum ft_event_kind kind, pid_t pid,
	    struct ft_event *event)
{
	event->kind = kind;
	event->pid = event->tid = pid;
	tracer_emit(t, event);
}

/* Seizes a paused child again, resumes it and reports the gap. */
static void
take_back(struct tracer *t, struct paused_child *paused, bool stopped,
	  const char *reason)
{
	struct ft_event event = { 0 };
	pid_t pid = paused->pid;

	if (!attach_threads(t, pid)) {
		struct handoff_state state;

		event.gap_start_ns = paused->since_ns;
		/* A child that is ending cannot be seized: it ended unseen. */
		if (handoff_read_state(pid, &state) == 0 && state.gone) {
			event.gap_ended = true;
			emit_simple(t, FT_EVENT_GAP, pid, &event);
			return;
		}
		error_msg("cannot take back pid %d: it runs on untraced",
			  (int)pid);
		emit_simple(t, FT_EVENT_DETACH, pid, &event);
		return;
	}
	/*
	 * The hand-over stop was forktrace's own: end it.  The stop, the
	 * continue and the SIGCONT that this shows are forktrace's, not the
	 * program's, so the loop does not report them.
	 */
	if (stopped) {
		pidmap_put(&t->taking_back, pid, (void *)1);
		kill(pid, SIGCONT);
	}
	event.resume_reason = reason;
	emit_simple(t, FT_EVENT_RESUME, pid, &event);
	memset(&event, 0, sizeof(event));
	event.gap_start_ns = paused->since_ns;
	emit_simple(t, FT_EVENT_GAP, pid, &event);
	/*
	 * A fork that was under way when the child was seized again is
	 * neither reported nor listed yet: rescan now and at the next tick.
	 */
	paused->taken_back = true;
	attach_rescan(t);
}

/* Looks at one paused child; returns true when it is no longer paused. */
static bool
check_paused(struct tracer *t, struct paused_child *paused)
{
	struct ft_event event = { 0 };
	struct handoff_state state;
	double waited;

	if (paused->taken_back) {
		attach_rescan(t);
		return true;
	}
	if (handoff_read_state(paused->pid, &state) < 0)
		return false;
	if (state.gone) {
		if (paused->debugger) {
			event.debugger_pid = paused->debugger;
			emit_simple(t, FT_EVENT_DEBUGGER_DETACH, paused->pid,
				    &event);
			memset(&event, 0, sizeof(event));
		}
		event.gap_start_ns = paused->since_ns;
		event.gap_ended = true;
		emit_simple(t, FT_EVENT_GAP, paused->pid, &event);
		return true;
	}
	if (state.tracer) {
		if (!paused->debugger) {
			paused->debugger = state.tracer;
			event.debugger_pid = state.tracer;
			event.debugger_comm = state.tracer_comm;
			emit_simple(t, FT_EVENT_DEBUGGER_ATTACH, paused->pid,
				    &event);
			/* So that one continue in the debugger runs it on. */
			kill(paused->pid, SIGCONT);
		}
		return false;
	}
	if (paused->debugger) {
		event.debugger_pid = paused->debugger;
		emit_simple(t, FT_EVENT_DEBUGGER_DETACH, paused->pid, &event);
		take_back(t, paused, state.stopped, "the debugger left");
		/* Kept one more tick, for its rescan. */
		return !paused->taken_back;
	}
	waited = (double)(tracer_now(t) - paused->since_ns) / 1e9;
	if (state.stopped) {
		paused->seen_stopped = true;
	} else if (paused->seen_stopped || waited * 1e9 > STOP_WAIT_NS) {
		/* Running again, untraced: someone sent it SIGCONT. */
		take_back(t, paused, false, "SIGCONT");
		/* Kept one more tick, for its rescan. */
		return !paused->taken_back;
	}
	if (t->opts->pause_timeout && waited >= t->opts->pause_timeout &&
	    paused->seen_stopped) {
		take_back(t, paused, true, "timeout");
		/* Kept one more tick, for its rescan. */
		return !paused->taken_back;
	}
	return false;
}

static void
check_entry(pid_t pid, void *value, void *data)
{
	struct tracer *t = data;

	if (check_paused(t, value)) {
		pidmap_remove(&t->paused, pid);
		free(value);
	}
}

void
pause_check(struct tracer *t, pid_t pid)
{
	struct paused_child *paused = pidmap_get(&t->paused, pid);

	if (paused && check_paused(t, paused)) {
		pidmap_remove(&t->paused, pid);
		free(paused);
	}
	if (!t->paused.count)
		arm_timer(t, false);
}

void
pause_tick(struct tracer *t)
{
	t->pause_tick_ns = tracer_now(t) + PAUSE_TICK_MS * 1000000ull;
	pidmap_each(&t->paused, check_entry, t);
	if (!t->paused.count)
		arm_timer(t, false);
}

/*
 * Returns true when a stopped child would be sent SIGHUP as soon as
 * forktrace exits.  POSIX job control does that to the stopped members of
 * a process group that becomes orphaned.  forktrace's own group is, once
 * it is gone, when forktrace leads it (as a shell's job does), and also
 * when its leader ends right after it (as timeout(1) does): so a child in
 * forktrace's group is never left stopped.
 */
static bool
orphaned_at_exit(pid_t pid)
{
	return getpgid(pid) == getpgrp();
}

static void
release_entry(pid_t pid, void *value, void *data)
{
	struct tracer *t = data;
	struct paused_child *paused = value;
	struct strbuf comm = STRBUF_INIT;

	if (paused->taken_back) {
		/* Traced again already: only its last rescan was due. */
		pidmap_remove(&t->paused, pid);
		free(paused);
		return;
	}

	escape_for_terminal(&comm, paused->comm, strlen(paused->comm));
	if (!paused->debugger && orphaned_at_exit(paused->pid)) {
		struct ft_event event = { .kind = FT_EVENT_RESUME,
					  .pid = paused->pid,
					  .tid = paused->pid,
					  .resume_reason = "forktrace ended" };

		kill(paused->pid, SIGCONT);
		tracer_emit(t, &event);
		error_msg("pid %d (%s) was still paused: resumed it untraced, "
			  "since its process group is orphaned when forktrace "
			  "exits and the kernel would hang it up",
			  (int)paused->pid, strbuf_str(&comm));
	} else {
		error_msg("pid %d (%s) is still paused: resume it with "
			  "kill -CONT %d",
			  (int)paused->pid, strbuf_str(&comm),
			  (int)paused->pid);
	}
	strbuf_release(&comm);
	pidmap_remove(&t->paused, pid);
	free(paused);
}

void
pause_release_all(struct tracer *t)
{
	pidmap_each(&t->paused, release_entry, t);
	arm_timer(t, false);
}

bool
pause_holds(const struct tracer *t, pid_t pid)
{
	const struct paused_child *paused = pidmap_get(&t->paused, pid);

	return paused && !paused->taken_back;
}

bool
pause_reap_helper(struct tracer *t, pid_t pid)
{
	return pidmap_remove(&t->helpers, pid) != NULL;
}

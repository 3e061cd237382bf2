/*
 * The tracer's state, shared by the event loop (tracer/loop.c) and the
 * debugger hand-off (attach/pause.c).  Nothing outside these two files
 * includes it.
 */
#ifndef FORKTRACE_LOOP_H
#define FORKTRACE_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "forktrace/event.h"
#include "forktrace/family.h"
#include "forktrace/launch.h"
#include "forktrace/options.h"
#include "forktrace/output.h"
#include "forktrace/pidmap.h"
#include "forktrace/snapshot.h"
#include "forktrace/stacks.h"

enum task_flag {
	/* Its creator's event named it; its first stop has not come yet. */
	TASK_AWAITING_FIRST_STOP = 1u << 0,
	/* Held in its first stop until its creator's event names it. */
	TASK_UNANNOUNCED = 1u << 1,
	/* In a group stop, resumed with PTRACE_LISTEN. */
	TASK_LISTENING = 1u << 2,
	/* Passed its exit event stop; exit_status is its own status. */
	TASK_EXITING = 1u << 3,
	/* To be handed over at its first stop, before its first instruction. */
	TASK_PAUSE_AT_FIRST_STOP = 1u << 4,
	/* To be handed over at its next exec (a vfork child). */
	TASK_PAUSE_AT_EXEC = 1u << 5,
	/* Reached its exit event stop. */
	TASK_EXIT_SEEN = 1u << 6,
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
	struct pidmap
		lost_deaths; /* tid -> wait status + 1, see handle_death() */
	/*
	 * -p: pid -> 1 for a process whose leader had exited before the
	 * attach, so that no death of the leader reports the process's end
	 */
	struct pidmap leaderless;
	unsigned unannounced_count;
	uint64_t start_ns;
	sigset_t child_mask; /* forktrace's signal mask at its start */
	timer_t wake_timer; /* sends SIGALRM at wake_at_ns */
	bool wake_timer_created;
	uint64_t wake_at_ns; /* when wake_timer fires next, or 0 */
	bool flush_at_once; /* to stderr, a terminal or the program's stream */
	uint64_t flush_at_ns; /* when buffered timeline lines are due, or 0 */

	struct launch launch;
	bool attached; /* -p: the family was running already */
	unsigned attach_failures; /* requested pids that could not be traced */
	pid_t root_pid; /* the launched program, or 0 under -p */
	bool root_execed;
	bool root_ended;
	int root_status;
	int exec_error;

	bool detaching;
	int interrupt_signal;
	pid_t interrupt_pid; /* the sender of the last interrupt, or 0 */
	uint64_t interrupt_ns; /* when the last interrupt came */
	unsigned interrupt_count;
	/* When to say how to detach if the family outlives it, or 0 */
	uint64_t interrupt_notice_at_ns;
	/* When the program last got each signal, in trace time; 0: never */
	uint64_t root_signal_ns[65];
	bool root_stop_followed; /* forktrace stopped with the program */
	bool root_stop_from_outside; /* a non-member sent its stop signal */
	int root_stop_signo; /* the signal of the program's last group stop */
	int forward_signo; /* a signal to pass on to the program, or 0 */
	uint64_t quit_key_ns; /* when the terminal last sent SIGQUIT, or 0 */
	uint64_t forward_at_ns; /* when, unless the program gets it first */

	/* Children handed over to a debugger: pid -> struct paused_child */
	struct pidmap paused;
	struct pidmap helpers; /* --on-pause commands, reaped by the loop */
	/* Paused children that forktrace continues as it takes them back */
	struct pidmap taking_back;
	uint64_t pause_tick_ns; /* the next check of paused children, or 0 */

	/* A snapshot being taken: threads still to stop, and its stacks */
	struct ft_snapshot *snapshot;
	unsigned snapshot_pending;
	struct ft_stacks *snapshot_stacks;
	struct ft_stacks *snapshot_own_stacks; /* under --stacks=none */

	struct hang_state *hang; /* NULL under --hang-after=0 */
};

/* Stamps an event, applies it to the model and hands it to the output. */
void tracer_emit(struct tracer *t, struct ft_event *event);

/* Returns the time since the trace's start, in nanoseconds. */
uint64_t tracer_now(const struct tracer *t);

struct task *tracer_add_task(struct tracer *t, pid_t tid, pid_t tgid,
			     unsigned flags);
void tracer_drop_task(struct tracer *t, struct task *task);

/* Handles every wait status that is ready, without blocking. */
void tracer_drain_waits(struct tracer *t);

/*
 * Blocks until one wait status is handled, a signal to forktrace comes,
 * or deadline_ns (time since the start) passes, whichever is first.
 */
void tracer_wait_until(struct tracer *t, uint64_t deadline_ns);

/*
 * Snapshots, in tracer/snapshot.c.  snapshot_take() reads every traced
 * thread's state and takes its stack, leaving the family running;
 * snapshot_capture_stop() is called by the loop at each stop meanwhile.
 */
struct ft_snapshot *snapshot_take(struct tracer *t);
void snapshot_capture_stop(struct tracer *t, struct task *task);
/*
 * Ends the snapshot's wait for thread tid, which the loop saw end.  An
 * interrupted thread that is already past its exit event stop ends
 * without the stop that the snapshot waits for.
 */
void snapshot_thread_ended(struct tracer *t, pid_t tid);
/*
 * Reads the facts of the traced threads tids and, with with_stacks, takes
 * their stacks the same way.  Threads forktrace does not trace are left
 * out.
 */
struct ft_snapshot *snapshot_take_threads(struct tracer *t, const pid_t *tids,
					  size_t count, bool with_stacks);

/*
 * The hang detector, in tracer/hang.c.  hang_start() sets up its ticks
 * unless --hang-after is 0.  hang_next_tick() returns the time of the next
 * tick, or 0 for none, and hang_tick() samples the family when that time
 * has come and reports the processes that have newly hung.
 * hang_note_fork() keeps a child's view of the threads its parent had at the
 * fork, hang_note_exit() the pipes and sockets a process held as it ends, and
 * hang_forget() drops what was kept of a thread.  hang_explain_snapshot() adds
 * the reports to a snapshot.
 */
void hang_start(struct tracer *t);
void hang_stop(struct tracer *t);
uint64_t hang_next_tick(const struct tracer *t);
void hang_tick(struct tracer *t);
void hang_note_fork(struct tracer *t, const struct task *caller, pid_t child,
		    const struct ft_snapshot *threads);
void hang_note_exit(struct tracer *t, const struct task *task);
void hang_forget(struct tracer *t, const struct task *task);
/* A signal delivered to a thread starts its sampling over. */
void hang_note_signal(struct tracer *t, const struct task *task);
/* An exec ends what a fork left the process. */
void hang_note_exec(struct tracer *t, pid_t pid);
void hang_explain_snapshot(struct tracer *t, struct ft_snapshot *snapshot);
/* Takes forktrace's own interrupt of a thread as no sign of its life. */
void hang_rebaseline_task(struct tracer *t, const struct task *task);
/*
 * At the stop of forktrace's own interrupt, records the call that the
 * interrupt ended: a poll() or a sleep goes on as restart_syscall().
 */
void hang_note_interrupt(struct tracer *t, const struct task *task);
/* Names a call resumed as restart_syscall() by the call it resumes. */
void hang_resolve_restart(struct tracer *t, struct ft_thread_snapshot *facts);

/* Continues a thread after a stop, or detaches it when letting go. */
void tracer_release(struct tracer *t, struct task *task, int signo);

/*
 * The hand-off, in attach/pause.c.  pause_applies() returns whether a new
 * child of a process, or a process that exec'd, is to be paused.
 * pause_hand_over() detaches the stopped task in a group stop and starts
 * watching it.  pause_tick() checks every paused child when
 * t->pause_tick_ns has come, and
 * pause_release_all() lists those still paused when forktrace ends.
 */
bool pause_applies(const struct tracer *t, const struct ft_process *process);
void pause_hand_over(struct tracer *t, struct task *task, const char *point,
		     const char *note);
void pause_tick(struct tracer *t);
/*
 * Looks at one paused child now.  Its parent has just been sent SIGCHLD
 * with CLD_CONTINUED, because a SIGCONT ended the child's stop, so the
 * child runs untraced.
 */
void pause_check(struct tracer *t, pid_t pid);
void pause_release_all(struct tracer *t);
/*
 * Attaching, in attach/attach.c.  attach_family() seizes the requested
 * processes with all their threads and descendants, rescanning /proc
 * until nothing new appears, and returns the number of requests that
 * failed, each reported.  attach_threads() seizes the threads of pid not
 * traced yet and returns their number.  attach_rescan() seizes the
 * threads and children of every member that forktrace does not trace,
 * recursively, until a pass finds none.
 */
unsigned attach_family(struct tracer *t, const pid_t *pids, unsigned count);
unsigned attach_threads(struct tracer *t, pid_t pid);
void attach_rescan(struct tracer *t);

/* Returns true while pid is handed over and not yet taken back. */
bool pause_holds(const struct tracer *t, pid_t pid);

/* Returns true when tid is an --on-pause command that the loop reaped. */
bool pause_reap_helper(struct tracer *t, pid_t pid);

#endif

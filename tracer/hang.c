/*
 * The hang detector: samples every traced thread on a timer and reports a
 * process once all its threads have sat in the same system call, using
 * no CPU time, for --hang-after seconds.
 *
 * A sample reads three small /proc files per thread.  Only for a process
 * that has newly hung does the detector read more.  It reads the open
 * files and shared mappings of every member, the futex words and poll
 * sets that blocked calls point to, and which readable processes hold the
 * family's pipes, through the readers of tracer/wait_probe.c.  From these
 * it builds the wait graph, which tracer/hang_explain.c explains.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/hang.h"
#include "forktrace/loop.h"
#include "forktrace/procfs.h"
#include "forktrace/xmalloc.h"

/*
 * The descriptors looked at in an ending member: past these, a process
 * with thousands of copies of one pipe would cost milliseconds per exit.
 */
#define EXIT_FILES_MAX 256

/* A member must live this long for its files to be kept at its end. */
#define EXIT_FILES_MIN_AGE_NS 2000000u

/* Ended members whose files are kept, the oldest dropped first. */
#define ENDED_MAX 512

/* One thread's last sample. */
struct sample {
	char state;
	bool in_syscall;
	long nr;
	uint64_t args[6];
	unsigned long long cpu; /* CPU time: schedstat ns, or clock ticks */
	uint64_t since_ns; /* when it entered this state */
	bool interrupted; /* forktrace interrupted it since this sample */
	bool signaled; /* a signal was delivered to it since this sample */
};

/* The pipes and sockets a member held as it ended. */
struct ended {
	pid_t pid;
	char comm[16];
	uint64_t seen_ns;
	struct ft_wait_file *files;
	size_t file_count;
};

/* A child's view of its parent's other threads at the fork. */
struct fork_note {
	pid_t parent;
	pid_t caller; /* the thread that called fork() */
	struct ft_fork_thread *threads;
	size_t count;
};

struct hang_state {
	uint64_t after_ns;
	uint64_t tick_ns; /* 0 with --hang-after=0: no detection */
	uint64_t next_tick_ns; /* when the loop calls for the next sample */
	struct pidmap samples; /* tid -> struct sample */
	/*
	 * tgid -> 1 + the sum of its threads' wait signatures when it was
	 * reported: it is reported again only when it hangs elsewhere
	 */
	struct pidmap reported;
	/*
	 * The reported tgids whose report was only waiting.  A member's end
	 * can leave them deadlocked, and then they are reported again.
	 */
	struct pidmap waiting;
	/*
	 * When a member last ended: for a while after, until the other
	 * members' waits have settled, the waiting ones are explained again
	 */
	uint64_t member_end_ns;
	struct pidmap marking; /* the tgids reported in this tick */
	struct pidmap fork_notes; /* child pid -> struct fork_note */
	struct ended ended[ENDED_MAX];
	size_t ended_next; /* the ring's next slot */
};

void
hang_start(struct tracer *t)
{
	struct hang_state *h;
	uint64_t tick;

	/*
	 * Without detection, the state still keeps what each child saw of
	 * its parent's threads at the fork, for the explanations of a
	 * SIGQUIT snapshot.
	 */
	h = xcalloc(1, sizeof(*h));
	t->hang = h;
	if (!(t->opts->hang_after > 0))
		return;
	h->after_ns = (uint64_t)(t->opts->hang_after * 1e9);
	/* Four samples in the waiting time, between 0.1 s and 1 s apart. */
	tick = h->after_ns / 4;
	if (tick < 100000000u)
		tick = 100000000u;
	if (tick > 1000000000u)
		tick = 1000000000u;
	h->tick_ns = tick;
	h->next_tick_ns = tracer_now(t) + tick;
}

static void
free_value(pid_t pid, void *value, void *data)
{
	(void)pid;
	(void)data;
	free(value);
}

static void
free_fork_note(struct fork_note *note)
{
	if (!note)
		return;
	free(note->threads);
	free(note);
}

static void
free_note_value(pid_t pid, void *value, void *data)
{
	(void)pid;
	(void)data;
	free_fork_note(value);
}

void
hang_stop(struct tracer *t)
{
	struct hang_state *h = t->hang;
	size_t i;

	if (!h)
		return;
	pidmap_each(&h->samples, free_value, NULL);
	pidmap_free(&h->samples);
	pidmap_free(&h->reported);
	pidmap_free(&h->waiting);
	pidmap_each(&h->fork_notes, free_note_value, NULL);
	pidmap_free(&h->fork_notes);
	for (i = 0; i < ENDED_MAX; i++)
		free(h->ended[i].files);
	free(h);
	t->hang = NULL;
}

uint64_t
hang_next_tick(const struct tracer *t)
{
	return t->hang && t->hang->tick_ns ? t->hang->next_tick_ns : 0;
}

void
hang_note_exit(struct tracer *t, const struct task *task)
{
	struct hang_state *h = t->hang;
	struct ft_wait_process scratch = { 0 };
	const struct ft_process *process;
	struct task *leader;
	struct ended *slot;
	char dir[64];
	size_t i;

	/* The files serve the detector's explanations only. */
	if (!h || !h->tick_ns)
		return;
	h->member_end_ns = tracer_now(t);
	/*
	 * Reading the files costs some 15 us: a process younger than
	 * EXIT_FILES_MIN_AGE_NS is let go without, so that the cost stays
	 * under 1% of any lifetime.
	 */
	process = family_process(t->family, task->tgid);
	if (!process ||
	    tracer_now(t) - process->start_ns < EXIT_FILES_MIN_AGE_NS)
		return;
	/*
	 * Files stay with the process while any thread lives: keep them at
	 * the leader's end, and at the end of a thread that outlived it.
	 */
	leader = pidmap_get(&t->tasks, task->tgid);
	if (task->tid != task->tgid && leader &&
	    !(leader->flags & TASK_EXIT_SEEN))
		return;
	snprintf(dir, sizeof(dir), "/proc/%d/task/%d/fd", (int)task->tgid,
		 (int)task->tid);
	wait_read_files(dir, &scratch, FT_FILES_ANON_IPC, EXIT_FILES_MAX, true);
	if (!scratch.file_count) {
		free(scratch.files);
		return;
	}
	/* A second look at the same process replaces the first. */
	for (i = 0; i < ENDED_MAX; i++)
		if (h->ended[i].pid == task->tgid && h->ended[i].files)
			break;
	slot = i < ENDED_MAX ? &h->ended[i]
			     : &h->ended[h->ended_next++ % ENDED_MAX];
	free(slot->files);
	slot->pid = task->tgid;
	slot->seen_ns = tracer_now(t);
	if (procfs_read_comm(task->tgid, slot->comm) < 0)
		slot->comm[0] = '\0';
	slot->files = scratch.files;
	slot->file_count = scratch.file_count;
}

/* --- Forks ------------------------------------------------------------ */

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void
hang_note_fork(struct tracer *t, const struct task *caller, pid_t child,
	       const struct ft_snapshot *threads)
{
	struct fork_note *note;
	size_t i;

	if (!t->hang || !threads->count)
		return;
	note = xcalloc(1, sizeof(*note));
	note->parent = caller->tgid;
	note->caller = caller->tid;
	note->threads = xcalloc(threads->count, sizeof(*note->threads));
	for (i = 0; i < threads->count; i++) {
		const struct ft_thread_snapshot *from = &threads->threads[i];
		struct ft_fork_thread *to = &note->threads[note->count++];

		to->tid = from->tid;
		memcpy(to->name, from->name, sizeof(to->name));
		to->in_syscall = from->in_syscall;
		to->syscall_nr = from->syscall_nr;
		if (from->stack && from->stack->count) {
			size_t skip = stack_libc_prefix(from->stack);
			const struct ft_frame *frame;

			if (skip >= from->stack->count)
				skip = 0;
			frame = &from->stack->frames[skip];
			if (frame->function)
				snprintf(to->function, sizeof(to->function),
					 "%s", frame->function);
			if (frame->file)
				snprintf(to->file, sizeof(to->file), "%s",
					 base_name(frame->file));
			to->line = frame->line;
		}
	}
	free_fork_note(pidmap_get(&t->hang->fork_notes, child));
	pidmap_put(&t->hang->fork_notes, child, note);
}

/*
 * Returns true for the calls that resume through restart_syscall() after
 * a stop: poll(), the sleeps, and a futex wait with a timeout.  Others
 * restart as themselves, so a restart_syscall() after them is a new call.
 */
static bool
restarts_through_block(const struct sample *s)
{
	switch (s->nr) {
	case SYS_poll:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		return true;
	case SYS_futex:
		return s->args[3] != 0;
	default:
		return false;
	}
}

/*
 * Returns true when a thread in call nr resumes the call that last saw:
 * nr is restart_syscall(), and last is a call that resumes that way.
 */
static bool
resumes_call_of(const struct sample *last, bool in_syscall, long nr)
{
	return last && in_syscall && nr == SYS_restart_syscall &&
	       last->in_syscall && restarts_through_block(last);
}

/* The error that makes an interrupted call resume as restart_syscall() */
#define ERESTART_RESTARTBLOCK 516

/*
 * Records in s the call that a signal-delivery stop, or the stop of
 * forktrace's own interrupt, ended, when that call will resume as
 * restart_syscall().  No later sample could tell which call that is, nor
 * whether it has a timeout.
 */
static void
note_interrupted_call(struct sample *s, pid_t tid)
{
#if defined(__x86_64__)
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, tid, 0L, &r) < 0 ||
	    (long long)r.orig_rax < 0 ||
	    (long long)r.rax != -ERESTART_RESTARTBLOCK)
		return;
	s->in_syscall = true;
	s->nr = (long)r.orig_rax;
	s->args[0] = r.rdi;
	s->args[1] = r.rsi;
	s->args[2] = r.rdx;
	s->args[3] = r.r10;
	s->args[4] = r.r8;
	s->args[5] = r.r9;
#else
	(void)s;
	(void)tid;
#endif
}

/* Returns the sample of task, a new and empty one if it has none yet. */
static struct sample *
task_sample(struct tracer *t, const struct task *task)
{
	struct sample *s = pidmap_get(&t->hang->samples, task->tid);

	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->since_ns = tracer_now(t);
		pidmap_put(&t->hang->samples, task->tid, s);
	}
	return s;
}

void
hang_note_signal(struct tracer *t, const struct task *task)
{
	struct sample *s;

	if (!t->hang || !t->hang->tick_ns)
		return;
	/*
	 * A delivered signal is a sign of life: the wait starts again, but
	 * the call stays known for a restart_syscall() that resumes it.
	 */
	s = task_sample(t, task);
	s->signaled = true;
	note_interrupted_call(s, task->tid);
}

void
hang_note_interrupt(struct tracer *t, const struct task *task)
{
	if (t->hang)
		note_interrupted_call(task_sample(t, task), task->tid);
}

void
hang_resolve_restart(struct tracer *t, struct ft_thread_snapshot *facts)
{
	struct sample *s =
		t->hang ? pidmap_get(&t->hang->samples, facts->tid) : NULL;

	if (resumes_call_of(s, facts->in_syscall, facts->syscall_nr)) {
		facts->syscall_nr = s->nr;
		memcpy(facts->syscall_args, s->args,
		       sizeof(facts->syscall_args));
	}
}

void
hang_note_exec(struct tracer *t, pid_t pid)
{
	if (!t->hang)
		return;
	/* The parent's threads at the fork no longer matter after exec. */
	free_fork_note(pidmap_remove(&t->hang->fork_notes, pid));
}

void
hang_forget(struct tracer *t, const struct task *task)
{
	struct hang_state *h = t->hang;

	if (!h)
		return;
	free(pidmap_get(&h->samples, task->tid));
	pidmap_remove(&h->samples, task->tid);
	if (task->tid == task->tgid) {
		pidmap_remove(&h->reported, task->tgid);
		pidmap_remove(&h->waiting, task->tgid);
		free_fork_note(pidmap_get(&h->fork_notes, task->tgid));
		pidmap_remove(&h->fork_notes, task->tgid);
	}
}

/* --- Sampling --------------------------------------------------------- */

/* Reads a thread's state, CPU time and system call. */
static bool
read_sample(pid_t pid, pid_t tid, struct sample *s)
{
	char path[80], *text, *paren;
	size_t len;
	unsigned long long utime = 0, stime = 0;
	struct ft_thread_snapshot facts = { 0 };

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) < 0)
		return false;
	paren = strrchr(text, ')');
	if (!paren || paren[1] != ' ') {
		free(text);
		return false;
	}
	s->state = paren[2];
	sscanf(paren + 2,
	       "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
	       &stime);
	free(text);
	s->cpu = utime + stime;
	/*
	 * The nanoseconds on a CPU, where the kernel keeps them, also move
	 * for a wakeup too short to show in the clock ticks.
	 */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) == 0) {
		s->cpu = strtoull(text, NULL, 10);
		free(text);
	}
	s->in_syscall = false;
	if (s->state != 'S' && s->state != 'D')
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) < 0)
		return true;
	if (snapshot_parse_syscall(text, &facts)) {
		s->in_syscall = true;
		s->nr = facts.syscall_nr;
		memcpy(s->args, facts.syscall_args, sizeof(s->args));
	}
	free(text);
	return true;
}

/*
 * Takes a call that resumed through restart_syscall() as the call that
 * was interrupted, as the last sample or signal stop saw it: poll() and
 * the timed waits resume that way after a stop, forktrace's own
 * interrupts included.
 */
static void
continue_restarted(const struct sample *last, struct sample *fresh)
{
	if (resumes_call_of(last, fresh->in_syscall, fresh->nr)) {
		fresh->nr = last->nr;
		memcpy(fresh->args, last->args, sizeof(fresh->args));
	}
}

/* Returns a hash of the thread and the call it waits in. */
static uint64_t
wait_signature(pid_t tid, const struct sample *s)
{
	uint64_t hash = 1469598103934665603ull ^ (uint64_t)tid;
	size_t i;

	hash = (hash ^ (uint64_t)s->nr) * 1099511628211ull;
	for (i = 0; i < 6; i++)
		hash = (hash ^ s->args[i]) * 1099511628211ull;
	return hash;
}

static bool
sample_blocked(const struct sample *s)
{
	return s->in_syscall && (s->state == 'S' || s->state == 'D');
}

/* A process's threads, summed up over one round of samples. */
struct process_sum {
	unsigned threads; /* live ones, zombies left out */
	bool all_blocked;
	uint64_t signature; /* the sum of its threads' wait signatures */
	uint64_t since_ns; /* the latest that any of them blocked */
};

struct sampling {
	struct tracer *t;
	uint64_t now;
	struct pidmap sums; /* tgid -> struct process_sum */
};

static void
sample_task(pid_t tid, void *value, void *data)
{
	struct sampling *sm = data;
	struct hang_state *h = sm->t->hang;
	struct task *task = value;
	struct sample fresh = { 0 }, *s;
	struct process_sum *sum;

	if (task->flags & (TASK_UNANNOUNCED | TASK_AWAITING_FIRST_STOP))
		return;
	if (!read_sample(task->tgid, tid, &fresh))
		return;
	s = pidmap_get(&h->samples, tid);
	continue_restarted(s, &fresh);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		pidmap_put(&h->samples, tid, s);
		*s = fresh;
		s->since_ns = sm->now;
	} else if (s->signaled || !sample_blocked(&fresh) ||
		   !sample_blocked(s) || fresh.nr != s->nr ||
		   memcmp(fresh.args, s->args, sizeof(s->args)) ||
		   (fresh.cpu != s->cpu && !s->interrupted) ||
		   fresh.state != s->state) {
		*s = fresh;
		s->since_ns = sm->now;
	} else if (s->interrupted) {
		/* Back in the same call: the interrupt's CPU time was ours. */
		s->cpu = fresh.cpu;
		s->interrupted = false;
	}
	if (fresh.state == 'Z' || fresh.state == 'X')
		return;
	sum = pidmap_get(&sm->sums, task->tgid);
	if (!sum) {
		sum = xcalloc(1, sizeof(*sum));
		sum->all_blocked = true;
		pidmap_put(&sm->sums, task->tgid, sum);
	}
	sum->threads++;
	sum->signature += wait_signature(tid, s);
	/* A job-control stop is a stop, not a hang. */
	if (!sample_blocked(s) || (task->flags & TASK_LISTENING))
		sum->all_blocked = false;
	if (s->since_ns > sum->since_ns)
		sum->since_ns = s->since_ns;
}

struct hung_list {
	struct tracer *t;
	uint64_t now;
	pid_t *pids;
	size_t count, capacity;
	/* The tgids reported as waiting and hung the same way since */
	pid_t *rechecks;
	size_t recheck_count, recheck_capacity;
};

static void
find_hung(pid_t tgid, void *value, void *data)
{
	struct hung_list *list = data;
	struct hang_state *h = list->t->hang;
	struct process_sum *sum = value;
	uintptr_t reported;

	reported = (uintptr_t)pidmap_get(&h->reported, tgid);
	if (!sum->threads || !sum->all_blocked ||
	    list->now - sum->since_ns < h->after_ns)
		return;
	/*
	 * The same hang as the one reported, maybe after a moment awake.  A
	 * member's end may have taken the last waker of a waiting one.
	 */
	if (reported == 1 + sum->signature) {
		if (!h->member_end_ns ||
		    list->now - h->member_end_ns > h->after_ns + h->tick_ns ||
		    !pidmap_get(&h->waiting, tgid))
			return;
		if (list->recheck_count == list->recheck_capacity)
			list->rechecks =
				xgrow(list->rechecks, &list->recheck_capacity,
				      sizeof(*list->rechecks));
		list->rechecks[list->recheck_count++] = tgid;
		return;
	}
	if (list->count == list->capacity)
		list->pids =
			xgrow(list->pids, &list->capacity, sizeof(*list->pids));
	list->pids[list->count++] = tgid;
}

struct building {
	struct tracer *t;
	struct ft_wait_graph *graph;
	uint64_t now;
	bool instant; /* a snapshot: no history, blocked means blocked now */
};

static void
add_member_thread(pid_t tid, void *value, void *data)
{
	struct building *b = data;
	struct task *task = value;
	struct hang_state *h = b->t->hang;
	struct ft_thread_snapshot facts = { 0 };
	struct ft_wait_process *p;
	struct ft_wait_thread *thread;
	struct sample *s;

	if (task->flags & (TASK_UNANNOUNCED | TASK_AWAITING_FIRST_STOP))
		return;
	snapshot_read_thread(task->tgid, tid, &facts);
	if (facts.state == 'Z' || facts.state == 'X')
		return; /* a zombie waits for nothing */
	p = wait_graph_find(b->graph, task->tgid);
	if (!p) {
		const struct ft_process *record =
			family_process(b->t->family, task->tgid);

		p = wait_graph_add(b->graph, task->tgid);
		p->member = true;
		if (procfs_read_comm(p->pid, p->comm) < 0)
			p->comm[0] = '\0';
		wait_read_parent_and_group(p);
		wait_read_caught_signals(p);
		/* A vfork child shares its parent's memory until it execs. */
		if (record && record->origin == FT_ORIGIN_VFORK &&
		    !record->programs && record->parent)
			p->vfork_parent = record->parent->pid;
	}
	thread = wait_process_add_thread(p);
	thread->facts = facts;
	if (task->flags & TASK_LISTENING)
		thread->facts.state = 'T';
	s = h ? pidmap_get(&h->samples, tid) : NULL;
	hang_resolve_restart(b->t, &thread->facts);
	thread->blocked =
		(thread->facts.state == 'S' || thread->facts.state == 'D') &&
		thread->facts.in_syscall;
	if (s && sample_blocked(s) && s->nr == thread->facts.syscall_nr &&
	    !memcmp(s->args, thread->facts.syscall_args, sizeof(s->args)))
		thread->blocked_ns = b->now - s->since_ns;
	/* Blocked across two samples at least, unless there is no history. */
	if (!b->instant && (!s || thread->blocked_ns < h->tick_ns))
		thread->blocked = false;
	if (thread->blocked)
		wait_decode(&thread->facts, &thread->wait, wait_read_memory,
			    NULL);
	if (thread->wait.epoll_fd >= 0)
		wait_resolve_epoll(p, tid, &thread->wait);
}

static void
add_ended(struct building *b)
{
	struct hang_state *h = b->t->hang;
	size_t i, j;

	for (i = 0; i < ENDED_MAX; i++) {
		const struct ended *e = &h->ended[i];
		const struct ft_process *record;
		struct ft_wait_process *p;

		if (!e->files)
			continue;
		record = family_find_any(b->t->family, e->pid);
		if (!record || !record->ended || record->end_ns < e->seen_ns)
			continue;
		p = wait_graph_add(b->graph, e->pid);
		p->member = true;
		p->ended = true;
		memcpy(p->comm, e->comm, sizeof(p->comm));
		p->status = record->status;
		p->end_ns = record->end_ns;
		p->has_sender = record->has_fatal_sender;
		p->sender_pid = record->fatal_sender;
		for (j = 0; j < e->file_count; j++)
			*wait_process_add_file(p) = e->files[j];
	}
}

/* Builds the graph of the whole family as it is now. */
static void
build_graph(struct tracer *t, struct ft_wait_graph *graph, bool instant)
{
	struct building b = { t, graph, tracer_now(t), instant };
	size_t members, i;
	bool maps;

	pidmap_each(&t->tasks, add_member_thread, &b);
	members = graph->count;
	maps = wait_graph_needs_maps(graph);
	for (i = 0; i < members; i++) {
		struct ft_wait_process *p = &graph->processes[i];
		struct fork_note *note =
			t->hang ? pidmap_get(&t->hang->fork_notes, p->pid)
				: NULL;
		char dir[64];

		if (!p->thread_count)
			continue;
		/* A zombie leader's fd directory is empty: use a thread's. */
		snprintf(dir, sizeof(dir), "/proc/%d/task/%d/fd", (int)p->pid,
			 (int)p->threads[0].facts.tid);
		wait_read_files(dir, p, FT_FILES_ALL, 0, false);
		wait_mark_socket_timeouts(p);
		if (maps)
			wait_read_maps(p);
		if (note) {
			p->forked_by = note->parent;
			p->fork_caller = note->caller;
			p->fork_threads = (struct ft_fork_thread *)xmemdup(
				note->threads,
				note->count * sizeof(*note->threads));
			p->fork_thread_count = note->count;
		}
	}
	wait_read_unix_peers(graph);
	wait_add_untraced_children(graph);
	wait_add_outside_holders(graph);
	if (t->hang)
		add_ended(&b);
	wait_graph_solve(graph);
}

/*
 * Takes a new sample of each thread after forktrace itself interrupted
 * them for their stacks: a call restarted in the same wait, and the
 * CPU time that the interrupt cost, are no sign of life.
 */
void
hang_rebaseline_task(struct tracer *t, const struct task *task)
{
	struct sample fresh = { 0 }, *s;
	pid_t tid = task->tid;

	if (!t->hang)
		return;
	s = pidmap_get(&t->hang->samples, tid);
	if (!s || !sample_blocked(s))
		return;
	/* Not back in its call yet: the next sample takes it as unchanged. */
	s->interrupted = true;
	if (!read_sample(task->tgid, tid, &fresh) || !sample_blocked(&fresh))
		return;
	continue_restarted(s, &fresh);
	if (fresh.nr != s->nr || memcmp(fresh.args, s->args, sizeof(s->args)))
		return;
	s->cpu = fresh.cpu;
	s->state = fresh.state;
	s->interrupted = false;
}

static void
rebaseline(pid_t tid, void *value, void *data)
{
	(void)tid;
	hang_rebaseline_task(data, value);
}

static void
rebaseline_all(struct tracer *t)
{
	if (t->hang && t->hang->tick_ns)
		pidmap_each(&t->tasks, rebaseline, t);
}

/*
 * Reports the hang of pid, or with only_deadlock, only a deadlock.
 * Returns true when it reported.
 */
static bool
report_hung(struct tracer *t, const struct ft_wait_graph *graph, pid_t pid,
	    bool only_deadlock)
{
	const struct ft_wait_process *p = wait_graph_member(graph, pid);
	struct ft_event event = { .kind = FT_EVENT_HANG, .pid = pid };
	struct ft_hang_report *report;
	struct ft_snapshot *threads;
	pid_t *tids;
	size_t i;

	if (!p || !p->thread_count)
		return false;
	/*
	 * A sleep or a prompt is no hang: it is marked as reported, so that
	 * only a wait elsewhere can bring a report.
	 */
	if (hang_waits_end_by_themselves(graph, pid)) {
		pidmap_put(&t->hang->reported, pid, (void *)1);
		return true;
	}
	report = hang_explain(graph, pid);
	if (only_deadlock && !report->deadlock) {
		hang_report_free(report);
		return false;
	}
	if (report->deadlock)
		pidmap_remove(&t->hang->waiting, pid);
	else
		pidmap_put(&t->hang->waiting, pid, (void *)1);
	tids = xcalloc(p->thread_count, sizeof(*tids));
	for (i = 0; i < p->thread_count; i++)
		tids[i] = p->threads[i].facts.tid;
	threads = snapshot_take_threads(t, tids, p->thread_count, true);
	free(tids);
	report->threads = threads;
	event.tid = report->tid;
	event.hang = report;
	tracer_emit(t, &event);
	hang_report_free(report);
	snapshot_free(threads);
	/* Marked with no signature until remember_signature() adds them. */
	pidmap_put(&t->hang->reported, pid, (void *)1);
	return true;
}

/* Adds a thread's wait signature to its newly reported process's mark. */
static void
remember_signature(pid_t tid, void *value, void *data)
{
	struct hang_state *h = data;
	struct task *task = value;
	struct sample *s = pidmap_get(&h->samples, tid);
	uintptr_t mark = (uintptr_t)pidmap_get(&h->reported, task->tgid);

	if (s && mark && pidmap_get(&h->marking, task->tgid) &&
	    s->state != 'Z' && s->state != 'X')
		pidmap_put(&h->reported, task->tgid,
			   (void *)(mark + (uintptr_t)wait_signature(tid, s)));
}

void
hang_tick(struct tracer *t)
{
	struct hang_state *h = t->hang;
	struct sampling sm = { t, tracer_now(t), { 0 } };
	struct hung_list list = { t, sm.now, NULL, 0, 0 };
	struct ft_wait_graph graph = { 0 };
	size_t i;

	if (!h || !h->tick_ns || sm.now < h->next_tick_ns)
		return;
	/* Ticks missed while the loop was busy are not made up. */
	while (h->next_tick_ns <= sm.now)
		h->next_tick_ns += h->tick_ns;
	pidmap_each(&t->tasks, sample_task, &sm);
	pidmap_each(&sm.sums, find_hung, &list);
	pidmap_each(&sm.sums, free_value, NULL);
	pidmap_free(&sm.sums);
	if (!list.count && !list.recheck_count)
		return;
	build_graph(t, &graph, false);
	for (i = 0; i < list.count; i++) {
		report_hung(t, &graph, list.pids[i], false);
		pidmap_put(&h->marking, list.pids[i], (void *)1);
	}
	for (i = 0; i < list.recheck_count; i++)
		if (report_hung(t, &graph, list.rechecks[i], true))
			pidmap_put(&h->marking, list.rechecks[i], (void *)1);
	rebaseline_all(t);
	/* Each mark takes the waits as they are after forktrace's interrupts.
	 */
	pidmap_each(&t->tasks, remember_signature, h);
	pidmap_free(&h->marking);
	wait_graph_free(&graph);
	free(list.pids);
	free(list.rechecks);
}

void
hang_explain_snapshot(struct tracer *t, struct ft_snapshot *snapshot)
{
	struct ft_wait_graph graph = { 0 };
	size_t i, j;

	build_graph(t, &graph, true);
	for (i = 0; i < graph.count; i++) {
		const struct ft_wait_process *p = &graph.processes[i];
		bool all_blocked = p->member && !p->ended && p->thread_count;

		for (j = 0; all_blocked && j < p->thread_count; j++)
			all_blocked = p->threads[j].blocked;
		if (!all_blocked)
			continue;
		snapshot->reports = xrealloc(
			snapshot->reports, (snapshot->report_count + 1) *
						   sizeof(*snapshot->reports));
		snapshot->reports[snapshot->report_count++] =
			hang_explain(&graph, p->pid);
	}
	wait_graph_free(&graph);
	rebaseline_all(t);
}

/* The family model: processes, threads, programs, and their links. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "forktrace/family.h"
#include "forktrace/hang.h"
#include "forktrace/pidmap.h"
#include "forktrace/xmalloc.h"

struct ft_family {
	struct ft_process *first_root;
	struct ft_process *last_root;
	struct pidmap live_processes; /* pid -> struct ft_process */
	struct pidmap live_threads; /* tid -> struct ft_process */
	struct pidmap thread_records; /* tid -> struct ft_thread, not leaders */
	struct ft_process **all; /* every record, for family_free() */
	size_t all_count;
	size_t all_capacity;
	unsigned thread_count;
};

struct ft_family *
family_new(void)
{
	return xcalloc(1, sizeof(struct ft_family));
}

static void
free_process(struct ft_process *process)
{
	struct ft_program *program, *next_program;
	struct ft_thread *thread, *next_thread;

	for (program = process->programs; program; program = next_program) {
		next_program = program->next;
		free(program->path);
		free(program->comm);
		free(program->args);
		free(program);
	}
	for (thread = process->threads; thread; thread = next_thread) {
		next_thread = thread->next;
		free(thread);
	}
	free(process);
}

void
family_free(struct ft_family *family)
{
	size_t i;

	if (!family)
		return;
	for (i = 0; i < family->all_count; i++)
		free_process(family->all[i]);
	free(family->all);
	pidmap_free(&family->live_processes);
	pidmap_free(&family->live_threads);
	pidmap_free(&family->thread_records);
	free(family);
}

static struct ft_process *
new_process(struct ft_family *family, pid_t pid, enum ft_origin origin,
	    uint64_t time_ns)
{
	struct ft_process *process = xcalloc(1, sizeof(*process));

	process->pid = pid;
	process->origin = origin;
	process->start_ns = time_ns;
	if (family->all_count == family->all_capacity)
		family->all = xgrow(family->all, &family->all_capacity,
				    sizeof(*family->all));
	family->all[family->all_count++] = process;
	pidmap_put(&family->live_processes, pid, process);
	pidmap_put(&family->live_threads, pid, process);
	return process;
}

struct ft_process *
family_add_root(struct ft_family *family, pid_t pid, enum ft_origin origin,
		uint64_t time_ns)
{
	struct ft_process *process = new_process(family, pid, origin, time_ns);

	if (family->last_root)
		family->last_root->next_sibling = process;
	else
		family->first_root = process;
	family->last_root = process;
	return process;
}

static void add_program(struct ft_family *family, struct ft_process *process,
			const struct ft_event *event);

static void
add_child(struct ft_family *family, struct ft_process *parent,
	  const struct ft_event *event)
{
	enum ft_origin origin = event->kind == FT_EVENT_VFORK ? FT_ORIGIN_VFORK
							      : FT_ORIGIN_FORK;
	struct ft_process *child =
		new_process(family, event->child, origin, event->time_ns);

	child->parent = parent;
	child->ppid = parent->pid;
	child->depth = parent->depth + 1;
	child->program = parent->program;
	if (event->adopted) {
		child->origin = FT_ORIGIN_ATTACHED;
		/* Found through /proc: its program is the one it runs now. */
		if (event->path && !event->found_ended)
			add_program(family, child, event);
	}
	if (event->found_ended) {
		/* A zombie has no exe or cmdline left, only its comm. */
		child->found_ended = true;
		child->program = NULL;
		if (event->comm)
			snprintf(child->found_comm, sizeof(child->found_comm),
				 "%s", event->comm);
	}
	if (parent->last_child)
		parent->last_child->next_sibling = child;
	else
		parent->first_child = child;
	parent->last_child = child;
}

static void
add_thread(struct ft_family *family, struct ft_process *process, pid_t tid,
	   uint64_t time_ns)
{
	struct ft_thread *thread = xcalloc(1, sizeof(*thread));

	thread->tid = tid;
	thread->start_ns = time_ns;
	if (process->last_thread)
		process->last_thread->next = thread;
	else
		process->threads = thread;
	process->last_thread = thread;
	process->thread_count++;
	process->live_threads++;
	family->thread_count++;
	pidmap_put(&family->live_threads, tid, process);
	pidmap_put(&family->thread_records, tid, thread);
}

/* Returns the record of a live thread of process, or NULL. */
static struct ft_thread *
find_live_thread(struct ft_family *family, struct ft_process *process,
		 pid_t tid)
{
	if (pidmap_get(&family->live_threads, tid) != process)
		return NULL;
	return pidmap_get(&family->thread_records, tid);
}

static void
end_thread(struct ft_family *family, struct ft_process *process,
	   struct ft_thread *thread, int status, uint64_t time_ns)
{
	thread->ended = true;
	thread->status = status;
	thread->end_ns = time_ns;
	process->live_threads--;
	pidmap_remove(&family->live_threads, thread->tid);
	pidmap_remove(&family->thread_records, thread->tid);
}

static void
end_process(struct ft_family *family, struct ft_process *process, int status,
	    uint64_t time_ns)
{
	struct ft_thread *thread;

	/* Threads whose own end was not reported ended with the process. */
	for (thread = process->threads; thread; thread = thread->next)
		if (!thread->ended)
			end_thread(family, process, thread, status, time_ns);
	process->ended = true;
	process->stopped = false;
	process->status = status;
	process->end_ns = time_ns;
	pidmap_remove(&family->live_processes, process->pid);
	pidmap_remove(&family->live_threads, process->pid);
}

/* Stops following a process that lives on untraced. */
static void
forget_process(struct ft_family *family, struct ft_process *process,
	       uint64_t time_ns)
{
	struct ft_thread *thread;

	for (thread = process->threads; thread; thread = thread->next)
		if (!thread->ended) {
			pidmap_remove(&family->live_threads, thread->tid);
			pidmap_remove(&family->thread_records, thread->tid);
		}
	process->detached = true;
	process->end_ns = time_ns;
	pidmap_remove(&family->live_processes, process->pid);
	pidmap_remove(&family->live_threads, process->pid);
}

static void
add_program(struct ft_family *family, struct ft_process *process,
	    const struct ft_event *event)
{
	struct ft_program *program = xcalloc(1, sizeof(*program));
	struct ft_thread *former;

	program->time_ns = event->time_ns;
	program->path = xstrdup(event->path ? event->path : "");
	program->comm = xstrdup(event->comm ? event->comm : "");
	program->args = xmemdup(event->args.data ? event->args.data : "",
				event->args.data ? event->args.len : 1);
	program->args_len = event->args.data ? event->args.len : 0;
	if (process->last_program)
		process->last_program->next = program;
	else
		process->programs = program;
	process->last_program = program;
	process->program = program;

	/* The thread that called execve() took over the leader's pid. */
	former = event->former_tid != event->pid
			 ? find_live_thread(family, process, event->former_tid)
			 : NULL;
	if (former)
		end_thread(family, process, former, 0, event->time_ns);
}

/*
 * Takes the end of a child that forktrace was not tracing, a paused one
 * that a debugger let run to its end or one lost that way, from the
 * SIGCHLD that its parent got.
 */
static void
note_untraced_end(struct ft_process *parent, const struct ft_event *event)
{
	struct ft_process *child, *found = NULL;

	for (child = parent->first_child; child; child = child->next_sibling)
		if (child->pid == event->sender_pid)
			found = child;
	if (!found || found->ended || !(found->paused || found->lost))
		return;
	found->ended = found->ended_untraced = true;
	found->status = event->child_status;
	if (!found->lost)
		found->end_ns = event->time_ns;
}

static bool
apply_exit(struct ft_family *family, struct ft_process *process,
	   const struct ft_event *event)
{
	struct ft_thread *thread;

	if (!event->thread) {
		/* The sender is known only of a signal that killed it. */
		if (!WIFSIGNALED(event->status) ||
		    WTERMSIG(event->status) != process->last_signo)
			process->has_fatal_sender = false;
		end_process(family, process, event->status, event->time_ns);
		return true;
	}
	thread = find_live_thread(family, process, event->tid);
	if (!thread)
		return false;
	end_thread(family, process, thread, event->status, event->time_ns);
	return true;
}

bool
family_apply(struct ft_family *family, const struct ft_event *event)
{
	struct ft_process *process = family_process(family, event->pid);

	if (!process)
		return false;

	switch (event->kind) {
	case FT_EVENT_FORK:
	case FT_EVENT_VFORK:
		add_child(family, process, event);
		return true;
	case FT_EVENT_THREAD:
		add_thread(family, process, event->child, event->time_ns);
		return true;
	case FT_EVENT_EXEC:
	case FT_EVENT_ATTACH:
		add_program(family, process, event);
		return true;
	case FT_EVENT_EXIT:
		return apply_exit(family, process, event);
	case FT_EVENT_SIGNAL:
		if (event->child_ended)
			note_untraced_end(process, event);
		process->last_signo = event->signo;
		process->has_fatal_sender = event->has_sender;
		process->fatal_sender = event->sender_pid;
		return true;
	case FT_EVENT_HANG:
		process->hung = true;
		process->deadlocked = event->hang->deadlock;
		process->hang_cause = hang_cause_name(event->hang->cause);
		return true;
	case FT_EVENT_STOP:
		if (process->stopped)
			return false;
		process->stopped = true;
		return true;
	case FT_EVENT_CONTINUE:
		if (!process->stopped)
			return false;
		process->stopped = false;
		return true;
	case FT_EVENT_DETACH:
		forget_process(family, process, event->time_ns);
		return true;
	case FT_EVENT_PAUSE:
		process->paused = true;
		return true;
	case FT_EVENT_RESUME:
		process->paused = false;
		return true;
	case FT_EVENT_GAP:
		if (event->gap_ended) {
			process->paused = false;
			process->lost = true;
			if (event->gap_status_known) {
				process->ended = process->ended_untraced = true;
				process->status = event->status;
			}
			forget_process(family, process,
				       process->ended_untraced
					       ? process->end_ns
					       : event->time_ns);
		}
		return true;
	case FT_EVENT_DEBUGGER_ATTACH:
	case FT_EVENT_DEBUGGER_DETACH:
		return true;
	}
	return false;
}

struct ft_process *
family_process(const struct ft_family *family, pid_t pid)
{
	return pidmap_get(&family->live_processes, pid);
}

struct ft_process *
family_find_any(const struct ft_family *family, pid_t pid)
{
	size_t i;

	for (i = family->all_count; i > 0; i--)
		if (family->all[i - 1]->pid == pid)
			return family->all[i - 1];
	return NULL;
}

struct ft_process *
family_thread_process(const struct ft_family *family, pid_t tid)
{
	return pidmap_get(&family->live_threads, tid);
}

void
family_each_live(const struct ft_family *family,
		 void (*fn)(pid_t, void *, void *), void *data)
{
	pidmap_each((struct pidmap *)&family->live_processes, fn, data);
}

struct ft_process *
family_roots(const struct ft_family *family)
{
	return family->first_root;
}

unsigned
family_process_count(const struct ft_family *family)
{
	return (unsigned)family->all_count;
}

unsigned
family_thread_count(const struct ft_family *family)
{
	return family->thread_count;
}

unsigned
family_live_process_count(const struct ft_family *family)
{
	return (unsigned)family->live_processes.count;
}

const char *
process_comm(const struct ft_process *process)
{
	if (process->program && process->program->comm[0])
		return process->program->comm;
	if (process->found_comm[0])
		return process->found_comm;
	return "?";
}

/*
 * The explanation of a hang, as a pure function of the solved wait graph:
 * the cause, the one sentence that states it, and the evidence beneath.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "forktrace/event.h"
#include "forktrace/hang.h"
#include "forktrace/strbuf.h"
#include "forktrace/xmalloc.h"

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
	case FT_HANG_OWN_END:
		return "holds_other_end";
	case FT_HANG_NO_WAKER:
		return "no_waker";
	}
	return "?";
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
	const struct ft_wait_file *file = wait_process_file(process, fd);

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
	const struct ft_wait_process *owner;
	const struct ft_wait_file *file;
	unsigned i;

	if (!call)
		call = "a system call";
	switch (wait->kind) {
	case FT_WAIT_FUTEX:
		owner = wait->futex_mutex
				? wait_thread_owner(graph, process,
						    wait->futex_owner)
				: wait_joined_owner(graph, process, wait);
		if (wait->futex_mutex) {
			strbuf_addf(sb, "waits for the mutex at 0x%llx",
				    (unsigned long long)wait->futex_addr);
			if (owner == process)
				strbuf_addf(sb, ", which thread %d holds",
					    (int)wait->futex_owner);
			else if (owner && wait->futex_owner == owner->pid)
				strbuf_addf(sb, ", which %d holds",
					    (int)owner->pid);
			else if (owner)
				strbuf_addf(sb, ", which thread %d of %d holds",
					    (int)wait->futex_owner,
					    (int)owner->pid);
		} else if (owner) {
			strbuf_addf(sb, "waits for thread %u to exit",
				    wait->futex_word);
		} else
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
		file = wait_process_file(process, wait->fds[0]);
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

/* Returns the member with a live thread tid, or NULL. */
static const struct ft_wait_process *
member_of_thread(const struct ft_wait_graph *graph, pid_t tid)
{
	size_t i;

	for (i = 0; i < graph->count; i++)
		if (graph->processes[i].member && !graph->processes[i].ended &&
		    wait_process_thread(&graph->processes[i], tid))
			return &graph->processes[i];
	return NULL;
}

/*
 * Explains a mutex whose owner is a live thread of the parent, when forktrace
 * has no record of the fork because it attached after it.
 */
static void
explain_parent_owner(struct ft_hang_report *report, struct strbuf *sb,
		     const struct ft_wait_process *parent, pid_t owner)
{
	const struct ft_wait_thread *t = wait_process_thread(parent, owner);
	const char *call = syscall_name(t->facts.syscall_nr);
	struct strbuf line = STRBUF_INIT;

	report->cause = FT_HANG_LOCK_NOT_COPIED;
	strbuf_addf(sb,
		    "deadlocked: it waits for a mutex that thread %d (%s) of "
		    "its parent %d holds; fork() did not copy that thread, so "
		    "nothing will unlock it here",
		    (int)owner, t->facts.name, (int)parent->pid);
	strbuf_addf(&line, "thread %d (%s) of %d is ", (int)owner,
		    t->facts.name, (int)parent->pid);
	if (t->facts.in_syscall && call)
		strbuf_addf(&line, "in %s() now", call);
	else
		strbuf_addstr(&line, "running now");
	add_evidence(report, &line);
	strbuf_release(&line);
}

/* The causes of a single thread stuck on a lock of its own process. */
static bool
explain_lock(struct ft_hang_report *report, struct strbuf *sb,
	     const struct ft_wait_graph *graph, const struct ft_wait_process *p,
	     const struct ft_wait_thread *t)
{
	const struct ft_wait *wait = &t->wait;
	const struct ft_wait_process *holder;
	const struct ft_fork_thread *ft;

	if (wait->kind != FT_WAIT_FUTEX || wait->futex_shared ||
	    p->thread_count != 1 || wait_joined_owner(graph, p, wait))
		return false;
	/* A vfork parent that holds it is part of a wait cycle. */
	if (wait->futex_mutex && p->vfork_parent &&
	    wait_thread_owner(graph, p, wait->futex_owner) != p)
		return false;
	report->owner_tid = wait->futex_owner;
	holder = wait->futex_mutex ? member_of_thread(graph, wait->futex_owner)
				   : NULL;
	/*
	 * The thread that called fork() is the one the child is a copy of:
	 * its locks are the child's own.  A single-threaded parent has no
	 * other thread to have held one.
	 */
	if (wait->futex_mutex &&
	    (wait->futex_owner == p->fork_caller ||
	     (holder && holder->pid == p->ppid && holder->thread_count == 1))) {
		report->cause = FT_HANG_LOCK_HELD_BY_ITSELF;
		strbuf_addf(sb,
			    "deadlocked: it waits for a mutex that thread %d "
			    "held when it called fork(); the child is a copy "
			    "of that thread, so it waits for itself",
			    (int)wait->futex_owner);
		return true;
	}
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
	if (holder && holder->pid == p->ppid) {
		explain_parent_owner(report, sb, holder, wait->futex_owner);
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

/*
 * Returns the ended member that last held the other end of file, the end
 * that a reader (or, with write, a writer) waits on, or NULL.
 */
static const struct ft_wait_process *
find_former_holder(const struct ft_wait_graph *graph,
		   const struct ft_wait_file *file, bool write)
{
	const struct ft_wait_process *best = NULL;
	size_t j, k;

	for (j = 0; j < graph->count; j++) {
		const struct ft_wait_process *q = &graph->processes[j];

		if (!q->ended || (best && q->end_ns < best->end_ns))
			continue;
		for (k = 0; k < q->file_count; k++)
			if (wait_file_is_other_end(file, &q->files[k], write)) {
				best = q;
				break;
			}
	}
	return best;
}

static void
set_wait_file(struct ft_hang_report *report, const char *name)
{
	snprintf(report->wait_file, sizeof(report->wait_file), "%s", name);
}

static void
set_peer(struct ft_hang_report *report, const struct ft_wait_process *peer)
{
	report->peer_pid = peer->pid;
	report->peer_status = peer->status;
	report->peer_end_ns = peer->end_ns;
}

/* Adds the ended member that held the other end of file as evidence. */
static void
add_former_holder(struct ft_hang_report *report,
		  const struct ft_wait_graph *graph,
		  const struct ft_wait_file *file, bool write)
{
	const struct ft_wait_process *peer =
		find_former_holder(graph, file, write);
	struct strbuf line = STRBUF_INIT;

	if (!peer)
		return;
	set_peer(report, peer);
	add_process_name(&line, graph, peer->pid);
	strbuf_addf(&line, ", which also held its %s end, ",
		    write ? "read" : "write");
	add_how_it_ended(&line, peer);
	add_evidence(report, &line);
	strbuf_release(&line);
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

	if (wait->kind != FT_WAIT_READ && wait->kind != FT_WAIT_WRITE &&
	    wait->kind != FT_WAIT_POLL)
		return false;
	for (i = 0; i < wait->fd_count; i++) {
		const struct ft_wait_file *file =
			wait_process_file(p, wait->fds[i]);
		const struct ft_wait_process *q;

		if (!file)
			continue;
		q = find_former_holder(graph, file, wait->fd_write[i]);
		if (q && (!best || q->end_ns > best->end_ns)) {
			best = q;
			best_file = file;
			best_write = wait->fd_write[i];
		}
	}
	if (!best)
		return false;
	report->cause = FT_HANG_DEAD_PEER;
	set_peer(report, best);
	set_wait_file(report, best_file->name);
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
	struct ft_wakers w;
	size_t i, j, k;

	if (depth == max)
		return false;
	for (i = 0; i < from->thread_count; i++) {
		if (!from->threads[i].stuck)
			continue;
		wait_find_wakers(graph, from, &from->threads[i], &w);
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
	struct ft_wakers w;
	size_t i, j;

	for (i = 0; i < from->thread_count; i++) {
		if (!from->threads[i].stuck)
			continue;
		wait_find_wakers(graph, from, &from->threads[i], &w);
		for (j = 0; j < w.count; j++)
			if (w.items[j].process == to)
				return &from->threads[i];
	}
	return NULL;
}

/* Appends how the process to holds the other end of what wait is on. */
static void
add_other_end(struct strbuf *sb, const struct ft_wait_graph *graph,
	      const struct ft_wait_process *from,
	      const struct ft_wait_process *to, const struct ft_wait *wait)
{
	unsigned i;

	for (i = 0; i < wait->fd_count; i++) {
		const struct ft_wait_file *file =
			wait_process_file(from, wait->fds[i]);
		struct ft_wakers w = { .count = 0 };
		int fd =
			file ? wait_holder_fd(to, file, wait->fd_write[i]) : -1;

		if (fd < 0)
			continue;
		if (wait->kind == FT_WAIT_POLL) {
			strbuf_addf(sb,
				    ", and %d holds the other end of %s "
				    "(its fd %d)",
				    (int)to->pid, file->name, fd);
			return;
		}
		wait_file_wakers(graph, file, wait->fd_write[i], &w);
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
	struct ft_wakers w;
	size_t i, j, shown = 0;

	for (i = 0; i < p->thread_count; i++) {
		if (!p->threads[i].stuck)
			continue;
		wait_find_wakers(graph, p, &p->threads[i], &w);
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

/* Returns true when every thread of p is in a stop, a job-control one. */
static bool
process_stopped(const struct ft_wait_process *p)
{
	size_t i;

	for (i = 0; i < p->thread_count; i++)
		if (p->threads[i].facts.state != 'T' &&
		    p->threads[i].facts.state != 't')
			return false;
	return p->thread_count > 0;
}

/* Returns true when a thread of p is not blocked in a system call. */
static bool
process_running(const struct ft_wait_process *p)
{
	size_t i;

	for (i = 0; i < p->thread_count; i++)
		if (!p->threads[i].blocked)
			return true;
	return false;
}

/* Appends who could end a wait that is not a deadlock. */
static void
add_waker_words(struct ft_hang_report *report, struct strbuf *sb,
		const struct ft_wait_graph *graph,
		const struct ft_wait_process *p, const struct ft_wait_thread *t)
{
	struct ft_wakers w;
	size_t i, shown = 0;

	if (t->wait.timed) {
		strbuf_addstr(sb, t->wait.timeout_unknown
					  ? "; it may have a timeout that ends "
					    "the wait"
					  : "; its timeout will end the wait");
		return;
	}
	wait_find_wakers(graph, p, t, &w);
	for (i = 0; i < w.count; i++) {
		const struct ft_wait_process *q = w.items[i].process;

		if (!wait_waker_awake(&w.items[i], t->facts.tid))
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
		if (process_stopped(q))
			strbuf_addstr(sb, ", which is stopped, can end it "
					  "once continued");
		else if (process_running(q))
			strbuf_addstr(sb, ", which is running, can end it");
		else
			strbuf_addstr(sb, ", which waits but is not "
					  "deadlocked, can end it");
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

/*
 * Explains a wait on a pipe or socket whose other end the process holds
 * itself: a read that waits for every write end to close, or a write to
 * a pipe that only the writer could read.
 */
static bool
explain_own_end(struct ft_hang_report *report, struct strbuf *sb,
		const struct ft_wait_graph *graph,
		const struct ft_wait_process *p, const struct ft_wait_thread *t)
{
	const struct ft_wait *wait = &t->wait;
	const struct ft_wait_file *file;
	struct ft_wakers w = { .count = 0 };
	size_t i;
	int fd;

	if (wait->kind != FT_WAIT_READ && wait->kind != FT_WAIT_WRITE)
		return false;
	file = wait_process_file(p, wait->fds[0]);
	if (!file || !wait_file_other_end(file))
		return false;
	fd = wait_holder_fd(p, file, wait->fd_write[0]);
	if (fd < 0)
		return false;
	/* With another live holder, that holder is the one it waits for. */
	wait_file_wakers(graph, file, wait->fd_write[0], &w);
	for (i = 0; i < w.count; i++)
		if (w.items[i].process != p)
			return false;
	if (w.outside)
		return false;
	report->cause = FT_HANG_OWN_END;
	report->tid = t->facts.tid;
	report->wait = *wait;
	set_wait_file(report, file->name);
	strbuf_addstr(sb, "deadlocked: ");
	if (p->thread_count > 1)
		strbuf_addf(sb, "thread %d ", (int)t->facts.tid);
	else
		strbuf_addstr(sb, "it ");
	if (file->kind == FT_FILE_SOCKET)
		strbuf_addf(sb,
			    "waits to %s %s (fd %d), but it holds the peer "
			    "socket itself (fd %d), and no one else does",
			    wait->kind == FT_WAIT_READ ? "read" : "write to",
			    file->name, file->fd, fd);
	else if (wait->kind == FT_WAIT_READ)
		strbuf_addf(sb,
			    "waits to read %s (fd %d) until every write end "
			    "is closed, but it holds a write end itself (fd "
			    "%d)",
			    file->name, file->fd, fd);
	else
		strbuf_addf(sb,
			    "waits to write to %s (fd %d), which nothing but "
			    "its own fd %d reads",
			    file->name, file->fd, fd);
	add_former_holder(report, graph, file, wait->fd_write[0]);
	return true;
}

/*
 * Describes why threads of one process wait for each other: the chain of
 * mutex owners and joined threads from thread t, while it is known.
 */
static void
add_thread_chain(struct strbuf *sb, const struct ft_wait_graph *graph,
		 const struct ft_wait_process *p,
		 const struct ft_wait_thread *t)
{
	pid_t seen[8];
	size_t count = 0, i;

	strbuf_addstr(sb, "deadlocked: ");
	while (t && count < 8) {
		pid_t next = 0;

		for (i = 0; i < count; i++)
			if (seen[i] == t->facts.tid)
				return;
		seen[count++] = t->facts.tid;
		if (count > 1)
			strbuf_addstr(sb, "; ");
		strbuf_addf(sb, "thread %d ", (int)t->facts.tid);
		add_wait_words(sb, graph, p, t);
		if (t->wait.kind == FT_WAIT_FUTEX && t->wait.futex_mutex)
			next = t->wait.futex_owner;
		else if (wait_joined_owner(graph, p, &t->wait))
			next = (pid_t)t->wait.futex_word;
		t = next ? wait_process_thread(p, next) : NULL;
	}
	if (count == 1)
		strbuf_addstr(sb, ", and every other thread of it waits with "
				  "no timeout too");
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
		set_wait_file(report, file_name(p, primary->wait.fds[0]));
	report->deadlock = all_stuck;

	if (all_stuck) {
		bool done = explain_lock(report, &sb, graph, p, primary);

		for (i = 0; !done && i < p->thread_count; i++)
			done = explain_own_end(report, &sb, graph, p,
					       &p->threads[i]);

		/* A plain read or write explains more than a poll, so it goes
		 * first. */
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
		if (!done && p->thread_count > 1) {
			report->cause = FT_HANG_THREADS;
			add_thread_chain(&sb, graph, p, primary);
		} else if (!done) {
			report->cause = FT_HANG_NO_WAKER;
			strbuf_addstr(&sb, "deadlocked: it ");
			add_wait_words(&sb, graph, p, primary);
			strbuf_addstr(&sb,
				      ", and nothing left can end that wait");
		}
	} else {
		report->cause = FT_HANG_WAITING;
		strbuf_addstr(&sb, "waiting: ");
		if (p->thread_count > 1)
			strbuf_addf(&sb, "thread %d ", (int)primary->facts.tid);
		else
			strbuf_addstr(&sb, "it ");
		add_wait_words(&sb, graph, p, primary);
		add_waker_words(report, &sb, graph, p, primary);
	}
	report->message = xstrdup(strbuf_str(&sb));
	strbuf_release(&sb);
	return report;
}

/* The maximum depth of a chain of waits for children that is followed */
#define CHILD_WAIT_DEPTH 8

static bool ends_by_itself(const struct ft_wait_graph *graph,
			   const struct ft_wait_process *p, unsigned depth);

/*
 * Returns true when the child that a wait for children waits for ends
 * by itself: for "any child", one of them does.
 */
static bool
awaited_child_ends(const struct ft_wait_graph *graph,
		   const struct ft_wait_process *p, const struct ft_wait *wait,
		   unsigned depth)
{
	size_t i;

	if (depth >= CHILD_WAIT_DEPTH)
		return false;
	for (i = 0; i < graph->count; i++) {
		const struct ft_wait_process *q = &graph->processes[i];

		if (q->member && wait_child_matches(p, q, wait->child) &&
		    ends_by_itself(graph, q, depth + 1))
			return true;
	}
	return false;
}

static bool
ends_by_itself(const struct ft_wait_graph *graph,
	       const struct ft_wait_process *p, unsigned depth)
{
	static const struct ft_wait any_child = { .kind = FT_WAIT_CHILD,
						  .child = -1 };
	size_t i;

	if (!p->thread_count)
		return false;
	for (i = 0; i < p->thread_count; i++) {
		const struct ft_wait *wait = &p->threads[i].wait;
		const struct ft_wait_file *file;

		if (!p->threads[i].blocked)
			return false;
		if (wait->timed && !wait->timeout_unknown)
			continue;
		if (wait->kind == FT_WAIT_CHILD) {
			if (awaited_child_ends(graph, p, wait, depth))
				continue;
			return false;
		}
		/* A shell waits for the SIGCHLD of a child's end. */
		if (wait->kind == FT_WAIT_SIGNAL &&
		    (p->caught_signals >> (SIGCHLD - 1) & 1)) {
			if (awaited_child_ends(graph, p, &any_child, depth))
				continue;
			return false;
		}
		file = wait->kind == FT_WAIT_READ
			       ? wait_process_file(p, wait->fds[0])
			       : NULL;
		if (!file || file->kind != FT_FILE_TERMINAL)
			return false;
	}
	return true;
}

bool
hang_waits_end_by_themselves(const struct ft_wait_graph *graph, pid_t pid)
{
	const struct ft_wait_process *p = wait_graph_member(graph, pid);

	return p && ends_by_itself(graph, p, 0);
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

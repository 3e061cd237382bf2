/*
 * The wait graph: its records, who could end each thread's wait, and the
 * threads that nothing awake can reach.
 *
 * Each blocked thread has wakers: the threads or processes that could end
 * its wait.  A futex private to a process can be woken only by its other
 * threads, or by the mutex's owner when the word is a pthread mutex's.  A
 * pipe can be woken by the holders of its other end, and wait4() by the
 * matching children.  A timeout, a terminal, a listening socket or a
 * process outside the family can always end a wait.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "forktrace/hang.h"
#include "forktrace/xmalloc.h"

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

const struct ft_wait_file *
wait_process_file(const struct ft_wait_process *process, int fd)
{
	size_t i;

	for (i = 0; i < process->file_count; i++)
		if (process->files[i].fd == fd)
			return &process->files[i];
	return NULL;
}

struct ft_wait_thread *
wait_process_thread(const struct ft_wait_process *process, pid_t tid)
{
	size_t i;

	for (i = 0; i < process->thread_count; i++)
		if (process->threads[i].facts.tid == tid)
			return &process->threads[i];
	return NULL;
}

static void
add_waker(struct ft_wakers *w, const struct ft_wait_process *process, pid_t tid)
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
void
wait_file_wakers(const struct ft_wait_graph *graph,
		 const struct ft_wait_file *file, bool write,
		 struct ft_wakers *w)
{
	bool found = false;
	size_t i, j;

	if (!wait_file_other_end(file)) {
		w->outside = true; /* a terminal, a network, a device */
		return;
	}
	/* Any process may open a named FIFO by its path at any time. */
	if (file->kind == FT_FILE_PIPE && file->dev) {
		w->outside = true;
		return;
	}
	for (i = 0; i < graph->count; i++) {
		const struct ft_wait_process *p = &graph->processes[i];

		if (p->ended)
			continue;
		for (j = 0; j < p->file_count; j++)
			if (wait_file_is_other_end(file, &p->files[j], write)) {
				add_waker(w, p, 0);
				found = true;
				break;
			}
	}
	/*
	 * A pipe's holders outside the family are in the graph as outsiders.
	 * A socket's peer that no member holds is held outside.
	 */
	if (!found && file->kind == FT_FILE_SOCKET)
		w->outside = true;
}

bool
wait_child_matches(const struct ft_wait_process *parent,
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

/* Returns the live member whose memory a vfork child p shares, or NULL. */
const struct ft_wait_process *
wait_memory_sharer(const struct ft_wait_graph *graph,
		   const struct ft_wait_process *p)
{
	return p->vfork_parent ? wait_graph_member(graph, p->vfork_parent)
			       : NULL;
}

/*
 * Returns the process that can reach the private futexes of p and has a
 * thread tid: p itself, or the parent whose memory a vfork child shares.
 */
const struct ft_wait_process *
wait_thread_owner(const struct ft_wait_graph *graph,
		  const struct ft_wait_process *p, pid_t tid)
{
	const struct ft_wait_process *sharer = wait_memory_sharer(graph, p);

	if (tid <= 0)
		return NULL;
	if (wait_process_thread(p, tid))
		return p;
	if (sharer && wait_process_thread(sharer, tid))
		return sharer;
	return NULL;
}

/*
 * Returns the process of the thread that a pthread_join() waits for, or
 * NULL.  glibc waits on the joined thread's tid field while it holds the
 * tid, and the kernel clears it and wakes the waiter at the thread's exit.
 */
const struct ft_wait_process *
wait_joined_owner(const struct ft_wait_graph *graph,
		  const struct ft_wait_process *p, const struct ft_wait *wait)
{
	if (!wait->futex_read || wait->futex_mutex || !wait->futex_word ||
	    wait->futex_word != wait->futex_expected ||
	    wait->futex_word > FT_FUTEX_TID_MASK)
		return NULL;
	return wait_thread_owner(graph, p, (pid_t)wait->futex_word);
}

/* A signal's bit in a mask such as SigCgt */
#define SIGNAL_BIT(signo) (1ull << ((signo)-1))
/*
 * The two real-time signals below SIGRTMIN that glibc keeps for thread
 * cancellation and setuid() across threads: no program sends them.
 */
#define GLIBC_SIGNALS (SIGNAL_BIT(32) | SIGNAL_BIT(33))
/* The signals of the timers that setitimer() and alarm() set */
#define TIMER_SIGNALS \
	(SIGNAL_BIT(SIGALRM) | SIGNAL_BIT(SIGVTALRM) | SIGNAL_BIT(SIGPROF))

/*
 * Adds the wakers that a signal handler brings: a handler may write to
 * any pipe or post any semaphore.  SIGCHLD comes when a child ends, so
 * each live child is a waker; a timer's signal may come from a timer
 * that forktrace cannot see.
 */
static void
add_signal_wakers(const struct ft_wait_graph *graph,
		  const struct ft_wait_process *process, struct ft_wakers *w)
{
	size_t i;

	if ((process->caught_signals & TIMER_SIGNALS) ||
	    (process->caught_signals && process->posix_timers))
		w->outside = true;
	if (!(process->caught_signals & SIGNAL_BIT(SIGCHLD)))
		return;
	for (i = 0; i < graph->count; i++)
		if (wait_child_matches(process, &graph->processes[i], -1))
			add_waker(w, &graph->processes[i], 0);
}

/* Lists who could end thread's wait. */
void
wait_find_wakers(const struct ft_wait_graph *graph,
		 const struct ft_wait_process *process,
		 const struct ft_wait_thread *thread, struct ft_wakers *w)
{
	const struct ft_wait *wait = &thread->wait;
	const struct ft_wait_process *owner, *sharer;
	unsigned i;
	size_t j;

	w->count = 0;
	w->outside = false;
	add_signal_wakers(graph, process, w);
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
		if (wait->futex_mutex) {
			/* Only the owner unlocks a mutex: a gone one never
			 * will. */
			owner = wait_thread_owner(graph, process,
						  wait->futex_owner);
			if (owner && wait->futex_owner != thread->facts.tid)
				add_waker(w, owner, wait->futex_owner);
			return;
		}
		owner = wait_joined_owner(graph, process, wait);
		if (owner) {
			/* The exit of the joined thread ends the wait. */
			add_waker(w, owner, (pid_t)wait->futex_word);
			return;
		}
		add_waker(w, process, 0);
		sharer = wait_memory_sharer(graph, process);
		if (sharer)
			add_waker(w, sharer, 0);
		return;
	case FT_WAIT_CHILD:
		for (j = 0; j < graph->count; j++)
			if (wait_child_matches(process, &graph->processes[j],
					       wait->child)) {
				if (!graph->processes[j].member)
					w->outside = true;
				else
					add_waker(w, &graph->processes[j], 0);
			}
		if (!w->count)
			w->outside = true; /* a child forktrace does not see */
		return;
	case FT_WAIT_SIGNAL:
		/*
		 * pause() and sigsuspend() end only when a handler runs:
		 * the signal wakers above, or a signal from anywhere to a
		 * handler of another kind.  sigwaitinfo() takes its signals
		 * blocked, and anyone may send them.
		 */
		if (thread->facts.syscall_nr == SYS_rt_sigtimedwait ||
		    (process->caught_signals &
		     ~(SIGNAL_BIT(SIGCHLD) | TIMER_SIGNALS | GLIBC_SIGNALS)))
			w->outside = true;
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
				wait_process_file(process, wait->fds[i]);

			if (!file) {
				w->outside = true;
				return;
			}
			wait_file_wakers(graph, file, wait->fd_write[i], w);
		}
		return;
	default:
		w->outside = true;
		return;
	}
}

/* Returns true when something that waker stands for is not stuck. */
bool
wait_waker_awake(const struct ft_waker *waker, pid_t waiter)
{
	const struct ft_wait_process *p = waker->process;
	size_t i;

	if (waker->tid) {
		const struct ft_wait_thread *t =
			wait_process_thread(p, waker->tid);

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
	struct ft_wakers w;
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
				wait_find_wakers(graph, p, t, &w);
				awake = w.outside;
				for (k = 0; !awake && k < w.count; k++)
					awake = wait_waker_awake(&w.items[k],
								 t->facts.tid);
				if (awake) {
					t->stuck = false;
					changed = true;
				}
			}
		}
	}
}

unsigned long
wait_file_other_end(const struct ft_wait_file *file)
{
	if (file->kind == FT_FILE_PIPE)
		return file->inode;
	if (file->kind == FT_FILE_SOCKET)
		return file->peer;
	return 0;
}

bool
wait_file_is_other_end(const struct ft_wait_file *mine,
		       const struct ft_wait_file *theirs, bool write)
{
	if (mine->kind == FT_FILE_PIPE)
		return theirs->kind == FT_FILE_PIPE &&
		       theirs->dev == mine->dev &&
		       theirs->inode == mine->inode &&
		       (write ? theirs->can_read : theirs->can_write);
	if (mine->kind == FT_FILE_SOCKET && mine->peer)
		return theirs->kind == FT_FILE_SOCKET &&
		       theirs->inode == mine->peer;
	return false;
}

int
wait_holder_fd(const struct ft_wait_process *to,
	       const struct ft_wait_file *file, bool write)
{
	size_t i;

	for (i = 0; i < to->file_count; i++)
		if (wait_file_is_other_end(file, &to->files[i], write))
			return to->files[i].fd;
	return -1;
}

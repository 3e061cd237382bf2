/*
 * Hung processes: what each blocked thread waits for, who could wake it,
 * and whether anything ever will.
 *
 * The live part (tracer/hang.c) samples the family on a timer, reads what
 * it needs from /proc and from the threads' memory, and fills in a wait
 * graph.  The explanation (tracer/hang_explain.c) is a pure function of
 * that graph, so that tests can feed it any situation.
 */
#ifndef FORKTRACE_HANG_H
#define FORKTRACE_HANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "forktrace/snapshot.h"

/* The kind of thing that a blocked system call waits for */
enum ft_wait_kind {
	FT_WAIT_NONE, /* not blocked in a system call */
	FT_WAIT_FUTEX,
	FT_WAIT_CHILD, /* wait4, waitid */
	FT_WAIT_READ, /* read, recv and the like, on one descriptor */
	FT_WAIT_WRITE,
	FT_WAIT_POLL, /* poll, select or epoll, on a set of descriptors */
	FT_WAIT_ACCEPT,
	FT_WAIT_SLEEP,
	FT_WAIT_SIGNAL, /* pause, sigsuspend, sigtimedwait */
	FT_WAIT_OTHER,
};

/* The kind of an open file, as far as waking goes. */
enum ft_file_kind {
	FT_FILE_OTHER,
	FT_FILE_PIPE, /* a pipe or a FIFO: both ends share one inode */
	FT_FILE_SOCKET,
	FT_FILE_TERMINAL,
};

/* One open descriptor of a process. */
struct ft_wait_file {
	int fd;
	enum ft_file_kind kind;
	unsigned long dev; /* the file's device; 0 for pipes and sockets */
	unsigned long inode;
	bool can_read;
	bool can_write;
	unsigned long peer; /* a connected Unix socket's peer inode, or 0 */
	char name[256]; /* "pipe:[1234]", "/dev/pts/3", ... */
};

#define FT_WAIT_FDS_MAX 16

/* One thread's wait, decoded from its system call */
struct ft_wait {
	enum ft_wait_kind kind;
	bool timed; /* it has a timeout, so it ends by itself */
	/*
	 * timed is only assumed: a socket's SO_RCVTIMEO or SO_SNDTIMEO could
	 * not be read, as where pidfd_getfd() is missing
	 */
	bool timeout_unknown;
	/* FT_WAIT_READ, FT_WAIT_WRITE, FT_WAIT_POLL, FT_WAIT_ACCEPT */
	unsigned fd_count;
	int fds[FT_WAIT_FDS_MAX];
	bool fd_write[FT_WAIT_FDS_MAX]; /* waits to write, not to read */
	bool fds_unknown; /* more descriptors, or a set it could not read */
	int epoll_fd; /* epoll_wait()'s descriptor, or -1 */
	/* FT_WAIT_FUTEX */
	uint64_t futex_addr;
	bool futex_shared; /* shared memory: other processes can wake it */
	unsigned long futex_inode; /* the shared mapping's inode, or 0 */
	bool futex_mutex; /* the word is a glibc pthread mutex's */
	pid_t futex_owner; /* the mutex's owner thread, or 0 */
	bool futex_read; /* futex_word is the word, read from memory */
	uint32_t futex_word;
	uint32_t futex_expected; /* the value the call waits on */
	/* FT_WAIT_CHILD: pid, -1 for any child, -PGID for a group */
	pid_t child;
	bool vfork; /* a vfork parent, until its child execs or exits */
};

/* One thread of a process in the graph. */
struct ft_wait_thread {
	struct ft_thread_snapshot facts; /* state, system call, stack */
	bool blocked; /* sleeping in the same call, no CPU, for a while */
	uint64_t blocked_ns; /* how long, when blocked */
	struct ft_wait wait;
	bool stuck; /* set by the analysis: nothing can wake it */
};

/* A thread of the parent when it forked, which the child does not have. */
struct ft_fork_thread {
	pid_t tid;
	char name[16];
	bool in_syscall;
	long syscall_nr;
	char function[64]; /* its innermost frame outside libc, or "" */
	char file[64];
	int line;
};

/* One process: a member of the family, an ended one, or an outsider. */
struct ft_wait_process {
	pid_t pid;
	pid_t ppid;
	pid_t pgid;
	uint64_t caught_signals; /* bit N-1 for signal N, as in SigCgt */
	bool posix_timers; /* it has timers of timer_create() */
	char comm[16];
	bool member; /* traced: its threads are known */
	bool ended; /* an ended member, kept for the files it held */
	int status; /* how it ended: a wait status */
	uint64_t end_ns;
	bool has_sender; /* the fatal signal's sender is known */
	pid_t sender_pid;

	struct ft_wait_thread *threads;
	size_t thread_count;
	struct ft_wait_file *files;
	size_t file_count;
	unsigned long *shared_maps; /* inodes of its shared mappings */
	size_t shared_map_count;

	/* A vfork child that has not exec'd shares this member's memory */
	pid_t vfork_parent;

	/* The parent's other threads at the fork that made it */
	pid_t forked_by;
	pid_t fork_caller; /* the thread that called fork(), or 0 */
	struct ft_fork_thread *fork_threads;
	size_t fork_thread_count;
};

struct ft_wait_graph {
	struct ft_wait_process *processes;
	size_t count;
	size_t capacity;
};

enum ft_hang_cause {
	FT_HANG_WAITING, /* not a deadlock: something can still wake it */
	FT_HANG_LOCK_NOT_COPIED, /* its mutex's owner stayed in the parent */
	FT_HANG_LOCK_HELD_BY_ITSELF,
	FT_HANG_LOCK_OWNER_GONE, /* the owner thread has ended */
	FT_HANG_FUTEX, /* a private futex that no thread of it can wake */
	FT_HANG_THREADS, /* every thread waits for another thread of it */
	FT_HANG_WAIT_CYCLE, /* waits on members that wait on it */
	FT_HANG_DEAD_PEER, /* the other end's holder has ended */
	FT_HANG_BEHIND, /* waits for members that are deadlocked */
	FT_HANG_OWN_END, /* waits on a pipe whose other end it holds */
	FT_HANG_NO_WAKER, /* nothing else left that could end its wait */
};

/* The explanation of one hung process. */
struct ft_hang_report {
	pid_t pid;
	pid_t tid; /* the thread the message speaks of */
	uint64_t blocked_ns;
	bool deadlock;
	enum ft_hang_cause cause;
	char *message; /* one plain sentence */
	char **evidence; /* lines of detail beneath it */
	size_t evidence_count;
	struct ft_wait wait; /* what tid waits for */
	char wait_file[256]; /* the file it waits on, or "" */
	/* Members it waits for: the cycle, the deadlocked ones, or wakers */
	pid_t *related;
	size_t related_count;
	pid_t owner_tid; /* FT_HANG_LOCK_*: the mutex's owner */
	pid_t peer_pid; /* FT_HANG_DEAD_PEER: the ended holder */
	int peer_status;
	uint64_t peer_end_ns;
	const struct ft_snapshot *threads; /* its threads, with stacks */
};

/* Returns the JSON name of a cause: "lock_not_copied", ... */
const char *hang_cause_name(enum ft_hang_cause cause);

/* Returns the name of a wait kind: "futex", "child", ... */
const char *wait_kind_name(enum ft_wait_kind kind);

/*
 * Reads a thread's memory: returns true when all len bytes at addr were
 * read into buf.
 */
typedef bool (*ft_read_memory)(pid_t tid, uint64_t addr, void *buf, size_t len,
			       void *data);

/*
 * Decodes the system call in facts into *wait.  read_memory reads the
 * futex words, poll sets and timeouts that the arguments point to; it
 * may be NULL, and the decoding then leaves those parts unknown.
 */
void wait_decode(const struct ft_thread_snapshot *facts, struct ft_wait *wait,
		 ft_read_memory read_memory, void *data);

/* Graph building: new records zeroed, owned by the graph. */
struct ft_wait_process *wait_graph_add(struct ft_wait_graph *graph, pid_t pid);
struct ft_wait_thread *wait_process_add_thread(struct ft_wait_process *process);
struct ft_wait_file *wait_process_add_file(struct ft_wait_process *process);
void wait_process_add_shared_map(struct ft_wait_process *process,
				 unsigned long inode);
void wait_graph_free(struct ft_wait_graph *graph);

/* Returns the live member with this pid, or NULL. */
struct ft_wait_process *wait_graph_member(const struct ft_wait_graph *graph,
					  pid_t pid);

/*
 * Marks the stuck threads of the graph: blocked, with no timeout, and
 * waiting only for threads that are stuck themselves.
 */
void wait_graph_solve(struct ft_wait_graph *graph);

/* The bits of a futex word that hold a thread id */
#define FT_FUTEX_TID_MASK 0x3fffffffu

/*
 * A waker: one thread (tid set), or any thread of a process but the
 * waiter (tid 0).  A waker outside the graph sets outside instead.
 */
struct ft_waker {
	const struct ft_wait_process *process;
	pid_t tid;
};

struct ft_wakers {
	struct ft_waker items[64];
	size_t count;
	bool outside; /* something outside the graph can end the wait */
};

/* Lists who could end the wait of thread, a thread of process. */
void wait_find_wakers(const struct ft_wait_graph *graph,
		      const struct ft_wait_process *process,
		      const struct ft_wait_thread *thread,
		      struct ft_wakers *wakers);

/*
 * Adds to wakers the holders of the other end of file: the writers of a
 * pipe that is read (the readers, with write), a socket's peer.
 */
void wait_file_wakers(const struct ft_wait_graph *graph,
		      const struct ft_wait_file *file, bool write,
		      struct ft_wakers *wakers);

/* Returns true when a thread that waker stands for is not stuck. */
bool wait_waker_awake(const struct ft_waker *waker, pid_t waiter);

/* Lookups in one process: NULL when it has no such descriptor or thread. */
const struct ft_wait_file *
wait_process_file(const struct ft_wait_process *process, int fd);
struct ft_wait_thread *
wait_process_thread(const struct ft_wait_process *process, pid_t tid);

/*
 * Returns true when child is a live child of parent that a wait for spec
 * waits for: spec is a pid, -1 for any child, 0 for the parent's group,
 * or -PGID for another group.
 */
bool wait_child_matches(const struct ft_wait_process *parent,
			const struct ft_wait_process *child, pid_t spec);

/* Returns the live member whose memory the vfork child p shares, or NULL. */
const struct ft_wait_process *
wait_memory_sharer(const struct ft_wait_graph *graph,
		   const struct ft_wait_process *p);

/*
 * Returns the process that reaches the private futexes of p and has the
 * thread tid: p itself, or the parent whose memory a vfork child shares.
 */
const struct ft_wait_process *
wait_thread_owner(const struct ft_wait_graph *graph,
		  const struct ft_wait_process *p, pid_t tid);

/*
 * Returns the process of the thread that a pthread_join() waits for, or
 * NULL when wait is no join.
 */
const struct ft_wait_process *
wait_joined_owner(const struct ft_wait_graph *graph,
		  const struct ft_wait_process *p, const struct ft_wait *wait);

/* --- Readers that fill a wait graph, in tracer/wait_probe.c --------- */

/* The descriptors that wait_read_files() keeps, and what it spends */
enum ft_files_mode {
	FT_FILES_ALL, /* every one, with its kind */
	FT_FILES_IPC, /* pipes, sockets and named FIFOs */
	FT_FILES_ANON_IPC, /* pipes and sockets only: a readlink() each */
};

/*
 * Reads the open files of a process from dir, a /proc fd directory, and
 * looks at no more than max_entries descriptors (0: all).  With unique,
 * keeps one descriptor for each end of each file.
 */
void wait_read_files(const char *dir, struct ft_wait_process *process,
		     enum ft_files_mode mode, size_t max_entries, bool unique);

/* Reads a thread's memory with process_vm_readv(), as ft_read_memory. */
bool wait_read_memory(pid_t tid, uint64_t addr, void *buf, size_t len,
		      void *data);

/* Read p's parent and process group, and its caught signals. */
void wait_read_parent_and_group(struct ft_wait_process *p);
void wait_read_caught_signals(struct ft_wait_process *p);

/* Replaces the epoll descriptor of wait by the descriptors it watches. */
void wait_resolve_epoll(struct ft_wait_process *p, pid_t tid,
			struct ft_wait *wait);

/*
 * Returns true when a thread in the graph waits on a shared futex, whose
 * wakers wait_read_maps() then finds: it reads p's shared mappings and
 * places its threads' shared futexes in them.
 */
bool wait_graph_needs_maps(const struct ft_wait_graph *graph);
void wait_read_maps(struct ft_wait_process *p);

/* Marks a socket read or write with SO_RCVTIMEO or SO_SNDTIMEO timed. */
void wait_mark_socket_timeouts(struct ft_wait_process *p);

/* Sets the peer of every connected Unix socket in the graph. */
void wait_read_unix_peers(struct ft_wait_graph *graph);

/*
 * Add outsiders, processes whose threads are unknown: the untraced
 * children of members, and the readable processes outside the family
 * that hold a pipe that a member waits on.
 */
void wait_add_untraced_children(struct ft_wait_graph *graph);
void wait_add_outside_holders(struct ft_wait_graph *graph);

/* Returns the record of pid that has not ended, member or not, or NULL. */
struct ft_wait_process *wait_graph_find(struct ft_wait_graph *graph, pid_t pid);

/* Returns the inode of the other end of file, or 0 for other files. */
unsigned long wait_file_other_end(const struct ft_wait_file *file);

/*
 * Returns true when theirs is the other end of mine, the end that a
 * reader of mine (with write, a writer) waits on: the same pipe opened
 * the other way, or the peer of a connected socket.
 */
bool wait_file_is_other_end(const struct ft_wait_file *mine,
			    const struct ft_wait_file *theirs, bool write);

/*
 * Returns to's descriptor for the other end of file, the end that a
 * reader (with write, a writer) of file waits on, or -1.
 */
int wait_holder_fd(const struct ft_wait_process *to,
		   const struct ft_wait_file *file, bool write);

/*
 * Explains why the member pid, whose threads are all blocked, hangs.
 * Call wait_graph_solve() first.  Returns a new report, to be freed with
 * hang_report_free(); its threads field is left NULL.
 */
struct ft_hang_report *hang_explain(const struct ft_wait_graph *graph,
				    pid_t pid);

void hang_report_free(struct ft_hang_report *report);

/*
 * Returns true when every thread of the member pid waits with a known
 * timeout, reads a terminal, or waits for a child that does the same.
 * Each such wait ends by itself or at a key, so the process is not hung.
 */
bool hang_waits_end_by_themselves(const struct ft_wait_graph *graph, pid_t pid);

#endif

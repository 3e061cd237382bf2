/*
 * The hang detector: samples every traced thread on a timer and reports a
 * process once all its threads have sat in the same system call, using
 * no CPU time, for --hang-after seconds.
 *
 * A sample reads two small /proc files per thread.  Only for a process
 * that has newly hung does the detector read more.  It reads the open
 * files and shared mappings of every member, the futex words and poll
 * sets that blocked calls point to, and which readable processes hold the
 * family's pipes.  From these it builds the wait graph, which
 * tracer/hang_explain.c explains.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "forktrace/error.h"
#include "forktrace/hang.h"
#include "forktrace/loop.h"
#include "forktrace/procfs.h"
#include "forktrace/xmalloc.h"

/*
 * The descriptors looked at in an ending member: past these, a process
 * with thousands of copies of one pipe would cost milliseconds per exit.
 */
#define EXIT_FILES_MAX 1024

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
	unsigned long long cpu; /* utime + stime, in clock ticks */
	uint64_t since_ns; /* when it entered this state */
	bool interrupted; /* forktrace interrupted it since this sample */
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
	struct ft_fork_thread *threads;
	size_t count;
};

struct hang_state {
	uint64_t after_ns;
	uint64_t tick_ns;
	int timer_fd;
	struct pidmap samples; /* tid -> struct sample */
	/*
	 * tgid -> 1 + the sum of its threads' wait signatures when it was
	 * reported: it is reported again only when it hangs elsewhere
	 */
	struct pidmap reported;
	struct pidmap marking; /* the tgids reported in this tick */
	struct pidmap fork_notes; /* child pid -> struct fork_note */
	struct ended ended[ENDED_MAX];
	size_t ended_next; /* the ring's next slot */
};

void
hang_start(struct tracer *t)
{
	struct hang_state *h;
	struct itimerspec spec = { { 0, 0 }, { 0, 0 } };
	uint64_t tick;

	if (!(t->opts->hang_after > 0))
		return;
	h = xcalloc(1, sizeof(*h));
	h->after_ns = (uint64_t)(t->opts->hang_after * 1e9);
	/* Four samples in the waiting time, between 0.1 s and 1 s apart. */
	tick = h->after_ns / 4;
	if (tick < 100000000u)
		tick = 100000000u;
	if (tick > 1000000000u)
		tick = 1000000000u;
	h->tick_ns = tick;
	h->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (h->timer_fd < 0)
		perror_msg_and_die("cannot create a timerfd");
	spec.it_value.tv_sec = (time_t)(tick / 1000000000u);
	spec.it_value.tv_nsec = (long)(tick % 1000000000u);
	spec.it_interval = spec.it_value;
	if (timerfd_settime(h->timer_fd, 0, &spec, NULL) < 0)
		perror_msg_and_die("cannot set the hang timer");
	t->hang = h;
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
	close(h->timer_fd);
	pidmap_each(&h->samples, free_value, NULL);
	pidmap_free(&h->samples);
	pidmap_free(&h->reported);
	pidmap_each(&h->fork_notes, free_note_value, NULL);
	pidmap_free(&h->fork_notes);
	for (i = 0; i < ENDED_MAX; i++)
		free(h->ended[i].files);
	free(h);
	t->hang = NULL;
}

int
hang_fd(const struct tracer *t)
{
	return t->hang ? t->hang->timer_fd : -1;
}

/* --- Files ------------------------------------------------------------ */

static bool
is_terminal_name(const char *name)
{
	return !strncmp(name, "/dev/pts/", 9) ||
	       !strncmp(name, "/dev/tty", 8) || !strcmp(name, "/dev/console");
}

/* Parses "pipe:[123]" or "socket:[123]" after prefix; 0 if it is not. */
static unsigned long
anon_inode(const char *name, const char *prefix)
{
	size_t len = strlen(prefix);

	if (strncmp(name, prefix, len) || name[len] != '[')
		return 0;
	return strtoul(name + len + 1, NULL, 10);
}

/* The descriptors that read_files() keeps, and what it spends on them */
enum files_mode {
	FILES_ALL, /* every one, with its kind */
	FILES_IPC, /* pipes, sockets and named FIFOs */
	FILES_ANON_IPC, /* pipes and sockets only: a readlink() each */
};

/* Cuts a name that readlink() filled to the brim at a whole character. */
static void
trim_partial_utf8(char *name, size_t len)
{
	size_t end = len;

	while (end > 0 && ((unsigned char)name[end - 1] & 0xc0) == 0x80)
		end--;
	if (end > 0 && ((unsigned char)name[end - 1] & 0xc0) == 0xc0)
		end--; /* the lead byte of the cut character */
	else
		end = len;
	name[end] = '\0';
}

/* Returns true when the process already has this end of this file. */
static bool
has_same_file(const struct ft_wait_process *p, const struct ft_wait_file *f)
{
	size_t i;

	for (i = 0; i < p->file_count; i++)
		if (p->files[i].kind == f->kind && p->files[i].dev == f->dev &&
		    p->files[i].inode == f->inode &&
		    p->files[i].can_read == f->can_read &&
		    p->files[i].can_write == f->can_write)
			return true;
	return false;
}

/*
 * Reads the open files of a process from dir, a /proc fd directory, and
 * looks at no more than max_entries descriptors (0: all).  With unique,
 * keeps one descriptor for each end of each file.
 */
static void
read_files(const char *dir, struct ft_wait_process *process,
	   enum files_mode mode, size_t max_entries, bool unique)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	size_t seen = 0;
	int dfd;

	if (!d)
		return;
	dfd = dirfd(d);
	while ((entry = readdir(d))) {
		struct ft_wait_file file = { 0 };
		struct stat st;
		ssize_t n;

		if (!isdigit((unsigned char)entry->d_name[0]))
			continue;
		if (max_entries && ++seen > max_entries)
			break;
		n = readlinkat(dfd, entry->d_name, file.name,
			       sizeof(file.name) - 1);
		if (n <= 0)
			continue;
		file.name[n] = '\0';
		if ((size_t)n == sizeof(file.name) - 1)
			trim_partial_utf8(file.name, (size_t)n);
		file.fd = atoi(entry->d_name);
		if ((file.inode = anon_inode(file.name, "pipe:")))
			file.kind = FT_FILE_PIPE;
		else if ((file.inode = anon_inode(file.name, "socket:")))
			file.kind = FT_FILE_SOCKET;
		else if (mode == FILES_ANON_IPC || file.name[0] != '/')
			continue;
		else if (fstatat(dfd, entry->d_name, &st, 0) == 0) {
			file.dev = (unsigned long)st.st_dev;
			file.inode = (unsigned long)st.st_ino;
			if (S_ISFIFO(st.st_mode))
				file.kind = FT_FILE_PIPE; /* a named one */
			else if (S_ISSOCK(st.st_mode))
				file.kind = FT_FILE_SOCKET;
			else if (S_ISCHR(st.st_mode) &&
				 is_terminal_name(file.name))
				file.kind = FT_FILE_TERMINAL;
		}
		if (mode == FILES_IPC && file.kind != FT_FILE_PIPE &&
		    file.kind != FT_FILE_SOCKET)
			continue;
		/* The link's own mode bits show how it was opened. */
		if (file.kind == FT_FILE_PIPE &&
		    fstatat(dfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0) {
			file.can_read = st.st_mode & S_IRUSR;
			file.can_write = st.st_mode & S_IWUSR;
		} else {
			file.can_read = file.can_write = true;
		}
		if (unique && has_same_file(process, &file))
			continue;
		*wait_process_add_file(process) = file;
	}
	closedir(d);
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

	if (!h)
		return;
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
	read_files(dir, &scratch, FILES_ANON_IPC, EXIT_FILES_MAX, true);
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
hang_note_fork(struct tracer *t, pid_t parent, pid_t child,
	       const struct ft_snapshot *threads)
{
	struct fork_note *note;
	size_t i;

	if (!t->hang || !threads->count)
		return;
	note = xcalloc(1, sizeof(*note));
	note->parent = parent;
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

void
hang_note_signal(struct tracer *t, const struct task *task)
{
	if (!t->hang)
		return;
	/* A delivered signal is a sign of life: sampling starts again. */
	free(pidmap_remove(&t->hang->samples, task->tid));
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
 * was interrupted, as the last sample saw it: poll() and the timed waits
 * resume that way after a stop, forktrace's own interrupts included.
 */
static void
continue_restarted(const struct sample *last, struct sample *fresh)
{
	if (last && fresh->in_syscall && fresh->nr == SYS_restart_syscall &&
	    last->in_syscall && last->nr != SYS_restart_syscall) {
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
	} else if (!sample_blocked(&fresh) || !sample_blocked(s) ||
		   fresh.nr != s->nr ||
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
	/* The same hang as the one reported, maybe after a moment awake. */
	if (reported == 1 + sum->signature)
		return;
	if (list->count == list->capacity)
		list->pids =
			xgrow(list->pids, &list->capacity, sizeof(*list->pids));
	list->pids[list->count++] = tgid;
}

/* --- The wait graph --------------------------------------------------- */

static bool
read_memory(pid_t tid, uint64_t addr, void *buf, size_t len, void *data)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	(void)data;
	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* Reads the signals that p has handlers for, from /proc/PID/status. */
static void
read_caught_signals(struct ft_wait_process *p)
{
	char path[48], *text, *at;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
	if (procfs_read_file(path, &text, &len) < 0)
		return;
	at = strstr(text, "\nSigCgt:\t");
	if (at)
		p->caught_signals = strtoull(at + 9, NULL, 16);
	free(text);
}

/* Reads fields 4 and 5 of /proc/PID/stat: the parent and the group. */
static void
read_parent_and_group(struct ft_wait_process *p)
{
	char path[48], *text, *paren;
	size_t len;
	int ppid = 0, pgid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	if (procfs_read_file(path, &text, &len) < 0)
		return;
	paren = strrchr(text, ')');
	if (paren && sscanf(paren + 1, " %*c %d %d", &ppid, &pgid) == 2) {
		p->ppid = ppid;
		p->pgid = pgid;
	}
	free(text);
}

/* Replaces an epoll descriptor by the descriptors it watches. */
static void
resolve_epoll(struct ft_wait_process *p, pid_t tid, struct ft_wait *wait)
{
	char path[80], *text, *line;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fdinfo/%d", (int)p->pid,
		 (int)tid, wait->epoll_fd);
	if (procfs_read_file(path, &text, &len) < 0) {
		wait->fds_unknown = true;
		return;
	}
	for (line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		int fd;
		unsigned events;

		if (sscanf(line, "tfd: %d events: %x", &fd, &events) != 2)
			continue;
		/* EPOLLIN 0x1, EPOLLPRI 0x2, EPOLLOUT 0x4 */
		if (events & 0x3) {
			if (wait->fd_count == FT_WAIT_FDS_MAX)
				wait->fds_unknown = true;
			else {
				wait->fds[wait->fd_count] = fd;
				wait->fd_write[wait->fd_count++] = false;
			}
		}
		if (events & 0x4) {
			if (wait->fd_count == FT_WAIT_FDS_MAX)
				wait->fds_unknown = true;
			else {
				wait->fds[wait->fd_count] = fd;
				wait->fd_write[wait->fd_count++] = true;
			}
		}
	}
	free(text);
	wait->epoll_fd = -1;
}

/*
 * Reads the shared mappings of p and places its threads' shared futexes.
 * A private mapping keeps a futex to this process.  Only a deleted file
 * or shared anonymous memory is known to be shared within the family
 * alone.  A futex in any other file, System V shared memory included,
 * which any process may attach by its key, may have wakers anywhere.
 */
static void
read_maps(struct ft_wait_process *p)
{
	char path[48], *text, *line;
	size_t len, i;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	if (procfs_read_file(path, &text, &len) < 0)
		return;
	for (line = text; line && *line;) {
		char *next = strchr(line, '\n');
		unsigned long long start, end, offset;
		unsigned long inode;
		const char *name;
		char perms[5];
		int name_at = 0;
		bool shared;

		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llx-%llx %4s %llx %*x:%*x %lu %n", &start,
			   &end, perms, &offset, &inode, &name_at) < 5) {
			line = next;
			continue;
		}
		shared = perms[3] == 's';
		name = name_at ? line + name_at : "";
		if (shared && inode)
			wait_process_add_shared_map(p, inode);
		for (i = 0; i < p->thread_count; i++) {
			struct ft_wait *w = &p->threads[i].wait;

			if (w->kind != FT_WAIT_FUTEX || !w->futex_shared ||
			    w->futex_addr < start || w->futex_addr >= end)
				continue;
			if (!shared)
				w->futex_shared = false;
			else if (strstr(name, "(deleted)") ||
				 !strncmp(name, "/dev/zero", 9))
				w->futex_inode = inode;
		}
		line = next;
	}
	free(text);
}

static bool
graph_has_sockets(const struct ft_wait_graph *graph)
{
	size_t i, j;

	for (i = 0; i < graph->count; i++)
		for (j = 0; j < graph->processes[i].file_count; j++)
			if (graph->processes[i].files[j].kind == FT_FILE_SOCKET)
				return true;
	return false;
}

static void
set_peer(struct ft_wait_graph *graph, unsigned long inode, unsigned long peer)
{
	size_t i, j;

	for (i = 0; i < graph->count; i++)
		for (j = 0; j < graph->processes[i].file_count; j++) {
			struct ft_wait_file *f = &graph->processes[i].files[j];

			if (f->kind == FT_FILE_SOCKET && f->inode == inode)
				f->peer = peer;
		}
}

/*
 * Finds the peer of every connected Unix socket in the graph, from the
 * kernel's socket diagnostics (what ss -x shows).  A socket left without
 * a peer counts as reachable from outside.
 */
static void
read_unix_peers(struct ft_wait_graph *graph)
{
	struct {
		struct nlmsghdr header;
		struct unix_diag_req request;
	} query = {
		.header = { .nlmsg_len = sizeof(query),
			    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.request = { .sdiag_family = AF_UNIX,
			     .udiag_states = ~0u,
			     .udiag_show = UDIAG_SHOW_PEER },
	};
	long buf[8192 / sizeof(long)];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);
	bool done = false;

	if (fd < 0)
		return;
	if (send(fd, &query, sizeof(query), 0) != (ssize_t)sizeof(query))
		done = true;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			break;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct unix_diag_msg *msg = NLMSG_DATA(h);
			struct rtattr *attr = (struct rtattr *)(msg + 1);
			int len = (int)(h->nlmsg_len -
					NLMSG_LENGTH(sizeof(*msg)));

			if (h->nlmsg_type == NLMSG_DONE ||
			    h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len))
				if (attr->rta_type == UNIX_DIAG_PEER)
					set_peer(graph, msg->udiag_ino,
						 *(uint32_t *)RTA_DATA(attr));
		}
	}
	close(fd);
}

static struct ft_wait_process *
graph_find(struct ft_wait_graph *graph, pid_t pid)
{
	size_t i;

	for (i = 0; i < graph->count; i++)
		if (graph->processes[i].pid == pid &&
		    !graph->processes[i].ended)
			return &graph->processes[i];
	return NULL;
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
	p = graph_find(b->graph, task->tgid);
	if (!p) {
		const struct ft_process *record =
			family_process(b->t->family, task->tgid);

		p = wait_graph_add(b->graph, task->tgid);
		p->member = true;
		if (procfs_read_comm(p->pid, p->comm) < 0)
			p->comm[0] = '\0';
		read_parent_and_group(p);
		read_caught_signals(p);
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
	if (s && thread->facts.in_syscall &&
	    thread->facts.syscall_nr == SYS_restart_syscall && s->in_syscall) {
		thread->facts.syscall_nr = s->nr;
		memcpy(thread->facts.syscall_args, s->args,
		       sizeof(thread->facts.syscall_args));
	}
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
		wait_decode(&thread->facts, &thread->wait, read_memory, NULL);
	if (thread->wait.epoll_fd >= 0)
		resolve_epoll(p, tid, &thread->wait);
}

static bool
graph_needs_maps(const struct ft_wait_graph *graph)
{
	size_t i, j;

	for (i = 0; i < graph->count; i++)
		for (j = 0; j < graph->processes[i].thread_count; j++) {
			const struct ft_wait *w =
				&graph->processes[i].threads[j].wait;

			if (w->kind == FT_WAIT_FUTEX && w->futex_shared)
				return true;
		}
	return false;
}

/* The pipes that blocked members wait on, which outsiders may hold. */
static size_t
waited_pipes(const struct ft_wait_graph *graph, struct ft_wait_file *pipes,
	     size_t max)
{
	size_t i, j, k, count = 0;
	unsigned f;

	for (i = 0; i < graph->count; i++) {
		const struct ft_wait_process *p = &graph->processes[i];

		for (j = 0; j < p->thread_count; j++) {
			const struct ft_wait *w = &p->threads[j].wait;

			for (f = 0; f < w->fd_count; f++)
				for (k = 0; k < p->file_count; k++)
					if (p->files[k].fd == w->fds[f] &&
					    p->files[k].kind == FT_FILE_PIPE &&
					    count < max)
						pipes[count++] = p->files[k];
		}
	}
	return count;
}

/*
 * Adds every process outside the family that holds one of the given
 * pipes, as an outsider: its threads are unknown, so it counts as awake.
 */
static void
add_outside_holders(struct building *b, const struct ft_wait_file *pipes,
		    size_t count)
{
	DIR *proc = opendir("/proc");
	struct dirent *entry;
	pid_t self = getpid();

	if (!proc)
		return;
	while ((entry = readdir(proc))) {
		struct ft_wait_process scratch = { 0 }, *p;
		pid_t pid = (pid_t)atoi(entry->d_name);
		char dir[48];
		size_t i, j;
		bool holds = false;

		if (pid <= 0 || pid == self || graph_find(b->graph, pid))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		read_files(dir, &scratch, FILES_IPC, 0, false);
		for (i = 0; i < scratch.file_count && !holds; i++)
			for (j = 0; j < count; j++)
				if (scratch.files[i].kind == FT_FILE_PIPE &&
				    scratch.files[i].dev == pipes[j].dev &&
				    scratch.files[i].inode == pipes[j].inode)
					holds = true;
		if (holds) {
			p = wait_graph_add(b->graph, pid);
			p->files = scratch.files;
			p->file_count = scratch.file_count;
			procfs_read_comm(pid, p->comm);
		} else {
			free(scratch.files);
		}
	}
	closedir(proc);
}

/* Adds the children of members that forktrace does not trace. */
static void
add_untraced_children(struct building *b)
{
	size_t members = b->graph->count, i, j;

	for (i = 0; i < members; i++) {
		struct ft_wait_process *p = &b->graph->processes[i];
		size_t threads = p->thread_count;

		for (j = 0; j < threads; j++) {
			char path[80], *text, *cursor, *end;
			size_t len;

			snprintf(path, sizeof(path),
				 "/proc/%d/task/%d/children", (int)p->pid,
				 (int)p->threads[j].facts.tid);
			if (procfs_read_file(path, &text, &len) < 0)
				continue;
			for (cursor = text;; cursor = end) {
				long child = strtol(cursor, &end, 10);
				struct ft_wait_process *c;
				pid_t parent = p->pid;

				if (end == cursor)
					break;
				if (graph_find(b->graph, (pid_t)child))
					continue;
				c = wait_graph_add(b->graph, (pid_t)child);
				/* The array may have moved. */
				p = &b->graph->processes[i];
				c->ppid = parent;
				c->pgid = 0;
				procfs_read_comm(c->pid, c->comm);
			}
			free(text);
		}
	}
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

/* A socket read or write with SO_RCVTIMEO or SO_SNDTIMEO is timed. */
static void
mark_socket_timeouts(struct ft_wait_process *p)
{
	size_t i;

	for (i = 0; i < p->thread_count; i++) {
		struct ft_wait *w = &p->threads[i].wait;
		const struct ft_wait_file *file;

		if (w->kind != FT_WAIT_READ && w->kind != FT_WAIT_WRITE &&
		    w->kind != FT_WAIT_ACCEPT)
			continue;
		file = wait_process_file(p, w->fds[0]);
		if (file && file->kind == FT_FILE_SOCKET &&
		    socket_has_timeout(p->pid, w->fds[0],
				       w->kind == FT_WAIT_WRITE ? SO_SNDTIMEO
								: SO_RCVTIMEO))
			w->timed = true;
	}
}

/* Builds the graph of the whole family as it is now. */
static void
build_graph(struct tracer *t, struct ft_wait_graph *graph, bool instant)
{
	struct building b = { t, graph, tracer_now(t), instant };
	struct ft_wait_file *pipes = xcalloc(256, sizeof(*pipes));
	size_t members, i, count;
	bool maps;

	pidmap_each(&t->tasks, add_member_thread, &b);
	members = graph->count;
	maps = graph_needs_maps(graph);
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
		read_files(dir, p, FILES_ALL, 0, false);
		mark_socket_timeouts(p);
		if (maps)
			read_maps(p);
		if (note) {
			p->forked_by = note->parent;
			p->fork_threads = (struct ft_fork_thread *)xmemdup(
				note->threads,
				note->count * sizeof(*note->threads));
			p->fork_thread_count = note->count;
		}
	}
	if (graph_has_sockets(graph))
		read_unix_peers(graph);
	add_untraced_children(&b);
	count = waited_pipes(graph, pipes, 256);
	if (count)
		add_outside_holders(&b, pipes, count);
	free(pipes);
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
	if (t->hang)
		pidmap_each(&t->tasks, rebaseline, t);
}

static void
report_hung(struct tracer *t, const struct ft_wait_graph *graph, pid_t pid)
{
	const struct ft_wait_process *p = wait_graph_member(graph, pid);
	struct ft_event event = { .kind = FT_EVENT_HANG, .pid = pid };
	struct ft_hang_report *report;
	struct ft_snapshot *threads;
	pid_t *tids;
	size_t i;

	if (!p || !p->thread_count)
		return;
	report = hang_explain(graph, pid);
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

static void
free_sum(pid_t pid, void *value, void *data)
{
	(void)pid;
	(void)data;
	free(value);
}

void
hang_tick(struct tracer *t)
{
	struct hang_state *h = t->hang;
	struct sampling sm = { t, tracer_now(t), { 0 } };
	struct hung_list list = { t, sm.now, NULL, 0, 0 };
	struct ft_wait_graph graph = { 0 };
	uint64_t ticks;
	size_t i;

	if (!h)
		return;
	if (read(h->timer_fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	pidmap_each(&t->tasks, sample_task, &sm);
	pidmap_each(&sm.sums, find_hung, &list);
	pidmap_each(&sm.sums, free_sum, NULL);
	pidmap_free(&sm.sums);
	if (!list.count)
		return;
	build_graph(t, &graph, false);
	for (i = 0; i < list.count; i++) {
		report_hung(t, &graph, list.pids[i]);
		pidmap_put(&h->marking, list.pids[i], (void *)1);
	}
	rebaseline_all(t);
	/* Each mark takes the waits as they are after forktrace's interrupts.
	 */
	pidmap_each(&t->tasks, remember_signature, h);
	pidmap_free(&h->marking);
	wait_graph_free(&graph);
	free(list.pids);
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

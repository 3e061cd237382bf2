/*
 * The readers that fill a wait graph.  From /proc they read a process's
 * open files, shared mappings, parent and signal handlers.  They also
 * read the threads' memory, and the peers of Unix sockets from the
 * kernel's socket diagnostics.  They find the processes outside the
 * family that hold the family's pipes.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "forktrace/hang.h"
#include "forktrace/procfs.h"
#include "forktrace/snapshot.h"
#include "forktrace/xmalloc.h"

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
void
wait_read_files(const char *dir, struct ft_wait_process *process,
		enum ft_files_mode mode, size_t max_entries, bool unique)
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
		else if (mode == FT_FILES_ANON_IPC || file.name[0] != '/')
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
		if (mode == FT_FILES_IPC && file.kind != FT_FILE_PIPE &&
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

bool
wait_read_memory(pid_t tid, uint64_t addr, void *buf, size_t len, void *data)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	(void)data;
	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* Reads the signals that p has handlers for, from /proc/PID/status. */
void
wait_read_caught_signals(struct ft_wait_process *p)
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
	/* A timer of timer_create() may send any signal; it is listed here. */
	snprintf(path, sizeof(path), "/proc/%d/timers", (int)p->pid);
	if (procfs_read_file(path, &text, &len) == 0) {
		p->posix_timers = len > 0;
		free(text);
	}
}

/* Reads fields 4 and 5 of /proc/PID/stat: the parent and the group. */
void
wait_read_parent_and_group(struct ft_wait_process *p)
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
void
wait_resolve_epoll(struct ft_wait_process *p, pid_t tid, struct ft_wait *wait)
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
void
wait_read_maps(struct ft_wait_process *p)
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
			else if ((strstr(name, "(deleted)") &&
				  strncmp(name, "/SYSV", 5)) ||
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
set_socket_peer(struct ft_wait_graph *graph, unsigned long inode,
		unsigned long peer)
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
void
wait_read_unix_peers(struct ft_wait_graph *graph)
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

	if (!graph_has_sockets(graph) || fd < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
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
					set_socket_peer(
						graph, msg->udiag_ino,
						*(uint32_t *)RTA_DATA(attr));
		}
	}
	close(fd);
}

struct ft_wait_process *
wait_graph_find(struct ft_wait_graph *graph, pid_t pid)
{
	size_t i;

	for (i = 0; i < graph->count; i++)
		if (graph->processes[i].pid == pid &&
		    !graph->processes[i].ended)
			return &graph->processes[i];
	return NULL;
}

bool
wait_graph_needs_maps(const struct ft_wait_graph *graph)
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
add_outside_holders(struct ft_wait_graph *graph,
		    const struct ft_wait_file *pipes, size_t count)
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

		/* An untraced child is in the graph already, without files. */
		p = pid > 0 ? wait_graph_find(graph, pid) : NULL;
		if (pid <= 0 || pid == self ||
		    (p && (p->member || p->file_count)))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		wait_read_files(dir, &scratch, FT_FILES_IPC, 0, false);
		for (i = 0; i < scratch.file_count && !holds; i++)
			for (j = 0; j < count; j++)
				if (scratch.files[i].kind == FT_FILE_PIPE &&
				    scratch.files[i].dev == pipes[j].dev &&
				    scratch.files[i].inode == pipes[j].inode)
					holds = true;
		if (holds) {
			if (!p) {
				p = wait_graph_add(graph, pid);
				procfs_read_comm(pid, p->comm);
			}
			p->files = scratch.files;
			p->file_count = scratch.file_count;
		} else {
			free(scratch.files);
		}
	}
	closedir(proc);
}

/* Adds the children of members that forktrace does not trace. */
void
wait_add_untraced_children(struct ft_wait_graph *graph)
{
	size_t members = graph->count, i, j;

	for (i = 0; i < members; i++) {
		struct ft_wait_process *p = &graph->processes[i];
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
				if (wait_graph_find(graph, (pid_t)child))
					continue;
				c = wait_graph_add(graph, (pid_t)child);
				/* The array may have moved. */
				p = &graph->processes[i];
				c->ppid = parent;
				c->pgid = 0;
				procfs_read_comm(c->pid, c->comm);
			}
			free(text);
		}
	}
}

/* A socket read or write with SO_RCVTIMEO or SO_SNDTIMEO is timed. */
void
wait_mark_socket_timeouts(struct ft_wait_process *p)
{
	size_t i;

	for (i = 0; i < p->thread_count; i++) {
		struct ft_wait *w = &p->threads[i].wait;
		const struct ft_wait_file *file;
		int timed;

		if (w->kind != FT_WAIT_READ && w->kind != FT_WAIT_WRITE &&
		    w->kind != FT_WAIT_ACCEPT)
			continue;
		file = wait_process_file(p, w->fds[0]);
		if (!file || file->kind != FT_FILE_SOCKET)
			continue;
		timed = socket_timeout(
			p->pid, p->threads[i].facts.tid, w->fds[0],
			w->kind == FT_WAIT_WRITE ? SO_SNDTIMEO : SO_RCVTIMEO);
		/* An unknown timeout may end the wait: never a deadlock. */
		if (timed) {
			w->timed = true;
			w->timeout_unknown = timed < 0;
		}
	}
}

void
wait_add_outside_holders(struct ft_wait_graph *graph)
{
	struct ft_wait_file *pipes = xcalloc(256, sizeof(*pipes));
	size_t count = waited_pipes(graph, pipes, 256);

	if (count)
		add_outside_holders(graph, pipes, count);
	free(pipes);
}

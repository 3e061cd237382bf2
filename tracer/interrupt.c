/*
 * Whether a thread may be interrupted for its stack without the program
 * noticing.
 *
 * PTRACE_INTERRUPT leaves a signal pending on the thread.  A system call
 * that the thread is blocked in then ends as it would for a signal with
 * no handler.  Most calls restart by themselves (ERESTARTSYS,
 * ERESTARTNOHAND, restart_syscall()), and the program notices nothing.
 * Others fail with EINTR or return what they had done so far: epoll_wait(),
 * sigtimedwait(), semop(), a socket read with a receive timeout, and a
 * write that had written part of its data.  Those threads are left
 * alone, and their stacks out.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include "forktrace/snapshot.h"

/* pidfd_open()'s flag for a thread's pidfd, since Linux 6.9 */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* A write of at most this much to a pipe is atomic: none of it is done
 * while it waits, so it restarts whole. */
#define PIPE_ATOMIC_BYTES 4096

enum fd_kind { FD_OTHER, FD_PIPE, FD_SOCKET, FD_TERMINAL };

static enum fd_kind
fd_kind(pid_t tid, int fd)
{
	char path[64], name[64];
	struct stat st;
	ssize_t n;

	/* /proc/TID works for any thread, and a zombie leader has no files. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	n = readlink(path, name, sizeof(name) - 1);
	if (n <= 0)
		return FD_OTHER;
	name[n] = '\0';
	if (!strncmp(name, "pipe:[", 6))
		return FD_PIPE;
	if (!strncmp(name, "socket:[", 8))
		return FD_SOCKET;
	if (!strncmp(name, "/dev/pts/", 9) || !strncmp(name, "/dev/tty", 8))
		return FD_TERMINAL;
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return FD_PIPE;
	return FD_OTHER;
}

/*
 * Returns a copy of descriptor fd of thread tid of process pid, borrowed
 * with pidfd_getfd(), which a tracer is allowed, or -1.
 */
static int
borrow_fd(pid_t pid, pid_t tid, int fd)
{
	int pidfd, copy;

	/* A thread's own pidfd reaches the files when the leader is gone. */
	pidfd = (int)syscall(SYS_pidfd_open, tid,
			     tid == pid ? 0 : PIDFD_THREAD);
	if (pidfd < 0 && tid != pid)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return copy;
}

/*
 * The socket is borrowed with pidfd_getfd(), which a tracer is allowed to
 * call.
 */
int
socket_timeout(pid_t pid, pid_t tid, int fd, int option)
{
	struct timeval timeout = { 0, 0 };
	socklen_t len = sizeof(timeout);
	int copy = borrow_fd(pid, tid, fd);
	int timed = -1;

	if (copy < 0)
		return -1;
	if (getsockopt(copy, SOL_SOCKET, option, &timeout, &len) == 0)
		timed = timeout.tv_sec || timeout.tv_usec;
	close(copy);
	return timed;
}

bool
socket_has_timeout(pid_t pid, pid_t tid, int fd, int option)
{
	return socket_timeout(pid, tid, fd, option) != 0;
}

/*
 * Returns true when a read of fd may return part of what it waits for if
 * interrupted: a socket that waits for more than one byte (SO_RCVLOWAT),
 * or a terminal in non-canonical mode with VMIN above one.  Also true
 * when that is unknown.
 */
static bool
read_may_return_part(pid_t pid, pid_t tid, int fd, bool socket)
{
	int copy = borrow_fd(pid, tid, fd), low = 1;
	socklen_t len = sizeof(low);
	struct termios termios;
	bool part = true;

	if (copy < 0)
		return true;
	if (socket)
		part = getsockopt(copy, SOL_SOCKET, SO_RCVLOWAT, &low, &len) !=
			       0 ||
		       low > 1;
	else if (tcgetattr(copy, &termios) == 0)
		part = !(termios.c_lflag & ICANON) && termios.c_cc[VMIN] > 1;
	close(copy);
	return part;
}

static const char *
read_harm(pid_t pid, pid_t tid, int fd, bool wait_all)
{
	switch (fd_kind(tid, fd)) {
	case FD_PIPE:
		return NULL;
	case FD_TERMINAL:
		if (read_may_return_part(pid, tid, fd, false))
			return "its terminal waits for more than one byte "
			       "(VMIN), and an interrupt would return part";
		return NULL;
	case FD_SOCKET:
		if (wait_all)
			return "an interrupt would end its MSG_WAITALL receive "
			       "early";
		if (socket_has_timeout(pid, tid, fd, SO_RCVTIMEO))
			return "its socket has a receive timeout, which an "
			       "interrupt would end with EINTR";
		if (read_may_return_part(pid, tid, fd, true))
			return "its socket waits for more than one byte "
			       "(SO_RCVLOWAT), and an interrupt would return "
			       "part";
		return NULL;
	default:
		return "an interrupt could change what its read returns";
	}
}

const char *
interrupt_harm(const struct ft_thread_snapshot *thread)
{
	const uint64_t *a = thread->syscall_args;
	pid_t pid = thread->pid, tid = thread->tid;

	if (thread->state == 'D')
		return "it is in an uninterruptible sleep, which does not stop";
	if (!thread->in_syscall)
		return NULL; /* running, or between system calls */
	switch (thread->syscall_nr) {
#if defined(__x86_64__)
	case SYS_futex:
	case SYS_futex_waitv:
	case SYS_wait4:
	case SYS_waitid:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_restart_syscall:
	case SYS_pause:
	case SYS_rt_sigsuspend:
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
		return NULL;
	case SYS_read:
	case SYS_readv:
	case SYS_pread64:
		return read_harm(pid, tid, (int)a[0], false);
	case SYS_recvfrom:
		return read_harm(pid, tid, (int)a[0], a[3] & MSG_WAITALL);
	case SYS_recvmsg:
		return read_harm(pid, tid, (int)a[0], a[2] & MSG_WAITALL);
	case SYS_accept:
	case SYS_accept4:
		if (socket_has_timeout(pid, tid, (int)a[0], SO_RCVTIMEO))
			return "its socket has a receive timeout, which an "
			       "interrupt would end with EINTR";
		return NULL;
	case SYS_write:
		if (a[2] <= PIPE_ATOMIC_BYTES &&
		    fd_kind(tid, (int)a[0]) == FD_PIPE)
			return NULL;
		return "an interrupt would cut its write short";
	case SYS_writev:
	case SYS_pwrite64:
	case SYS_sendto:
	case SYS_sendmsg:
		return "an interrupt would cut its write short";
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
		return "an interrupt would make epoll_wait() fail with EINTR";
#endif
	default:
		return "an interrupt could make this system call fail with "
		       "EINTR";
	}
}

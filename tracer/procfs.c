/* Readers and parsers of /proc files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forktrace/procfs.h"
#include "forktrace/xmalloc.h"

/* Reads the file at path, relative to dirfd, as procfs_read_file() does. */
static int
read_file_at(int dirfd, const char *path, char **data, size_t *len)
{
	size_t capacity = 4096, used = 0;
	char *buf;
	int fd;

	*data = NULL;
	*len = 0;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	buf = xmalloc(capacity);
	for (;;) {
		ssize_t n = read(fd, buf + used, capacity - used - 1);

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			free(buf);
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used + 1 == capacity)
			buf = xgrow(buf, &capacity, 1);
	}
	close(fd);
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return 0;
}

int
procfs_read_file(const char *path, char **data, size_t *len)
{
	return read_file_at(AT_FDCWD, path, data, len);
}

static int
read_exe_at(int dirfd, const char *link, char **path)
{
	char target[PATH_MAX + 1];
	ssize_t n;

	*path = NULL;
	n = readlinkat(dirfd, link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	*path = xstrdup(target);
	return 0;
}

/*
 * Writes "/proc/PID/exe" into link, without printf: every exec reads it.
 */
static void
exe_link_path(pid_t pid, char link[32])
{
	char digits[12];
	size_t at = sizeof(digits), len;
	unsigned value = (unsigned)pid;

	do {
		digits[--at] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	len = sizeof(digits) - at;
	memcpy(link, "/proc/", 6);
	memcpy(link + 6, digits + at, len);
	memcpy(link + 6 + len, "/exe", 5);
}

int
procfs_read_exe(pid_t pid, char **path)
{
	char link[32];

	exe_link_path(pid, link);
	return read_exe_at(AT_FDCWD, link, path);
}

static int
read_comm_at(int dirfd, const char *path, char comm[16])
{
	ssize_t n;
	int fd;

	comm[0] = '\0';
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, 15);
	if (n < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	close(fd);
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	return 0;
}

int
procfs_read_comm(pid_t pid, char comm[16])
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	return read_comm_at(AT_FDCWD, path, comm);
}

int
procfs_read_cmdline(pid_t pid, char **args, size_t *len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	return procfs_read_file(path, args, len);
}

/*
 * Reads the three files through one descriptor of /proc/PID: each path
 * walk through /proc costs some microseconds, and this runs at every exec.
 */
void
procfs_read_program(pid_t pid, struct procfs_program *program)
{
	char path[64];
	int dirfd;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		program->path = NULL;
		program->comm[0] = '\0';
		program->args = NULL;
		program->args_len = 0;
		return;
	}
	read_exe_at(dirfd, "exe", &program->path);
	read_comm_at(dirfd, "comm", program->comm);
	if (read_file_at(dirfd, "cmdline", &program->args, &program->args_len) <
	    0)
		program->args_len = 0;
	close(dirfd);
}

void
procfs_program_free(struct procfs_program *program)
{
	free(program->path);
	free(program->args);
	program->path = NULL;
	program->args = NULL;
}

bool
procfs_status_field(const char *text, size_t len, const char *key, long *value)
{
	size_t keylen = strlen(key);
	const char *line = text, *end = text + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - line) > keylen &&
		    !memcmp(line, key, keylen) && line[keylen] == ':') {
			const char *p = line + keylen + 1;
			long v = 0;
			bool negative = false, digits = false;

			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			if (p < eol && *p == '-') {
				negative = true;
				p++;
			}
			for (; p < eol && *p >= '0' && *p <= '9'; p++) {
				if (v > (LONG_MAX - (*p - '0')) / 10)
					return false;
				v = v * 10 + (*p - '0');
				digits = true;
			}
			if (!digits)
				return false;
			*value = negative ? -v : v;
			return true;
		}
		line = eol + 1;
	}
	return false;
}

int
procfs_read_status_field(pid_t pid, const char *key, long *value)
{
	char path[64];
	char *text;
	size_t len;
	int err;
	bool found;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	err = procfs_read_file(path, &text, &len);
	if (err)
		return err;
	found = procfs_status_field(text, len, key, value);
	free(text);
	return found ? 0 : -ENOENT;
}

bool
procfs_is_thread_of(pid_t tgid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)tgid, (int)tid);
	return access(path, F_OK) == 0;
}

int
procfs_parse_exit_code(const char *stat, int *status)
{
	const char *p = strrchr(stat, ')');
	char *end;
	long value;
	int field;

	if (!p)
		return -1;
	/* Field 3, the state, follows the command's closing parenthesis. */
	p++;
	for (field = 3; field <= 52; field++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -1;
		if (field == 52)
			break;
		p += strcspn(p, " \n");
	}
	errno = 0;
	value = strtol(p, &end, 10);
	if (end == p || errno || value < 0 || value > 0xffff)
		return -1;
	*status = (int)value;
	return 0;
}

int
procfs_read_exit_code(pid_t pid, int *status)
{
	char path[64], *text;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (procfs_read_file(path, &text, &len) < 0)
		return -1;
	ret = procfs_parse_exit_code(text, status);
	free(text);
	return ret;
}

bool
procfs_is_zombie(pid_t tid)
{
	char path[64], *text, *paren;
	size_t len;
	bool zombie;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)tid,
		 (int)tid);
	if (procfs_read_file(path, &text, &len) < 0)
		return false;
	paren = strrchr(text, ')');
	zombie = paren && paren[1] == ' ' &&
		 (paren[2] == 'Z' || paren[2] == 'X');
	free(text);
	return zombie;
}

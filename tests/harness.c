/* Running forktrace on real commands for the integration tests. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef FT_BUILD_DIR
#error "FT_BUILD_DIR must name the build directory"
#endif

static char tmpdir[64];

static void
remove_tmpdir(void)
{
	char command[128];

	if (!tmpdir[0])
		return;
	snprintf(command, sizeof(command), "rm -rf '%s'", tmpdir);
	if (system(command) != 0)
		fprintf(stderr, "harness: cannot remove %s\n", tmpdir);
}

const char *
test_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/forktrace-test.XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("harness: mkdtemp");
			abort();
		}
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

/* Joins dir and name into one of eight buffers used in turn. */
static const char *
join_path(const char *dir, const char *name)
{
	static char paths[8][512];
	static unsigned next;
	char *path = paths[next++ % 8];

	snprintf(path, 512, "%s/%s", dir, name);
	return path;
}

const char *
example_path(const char *name)
{
	return join_path(FT_BUILD_DIR "/examples", name);
}

const char *
source_path(const char *relative)
{
	return join_path(FT_SOURCE_DIR, relative);
}

/*
 * Puts the words of FT_TEST_WRAPPER, split at blanks, and then forktrace's
 * path into argv from index n.  Returns the new count.
 */
static size_t
add_forktrace(const char **argv, size_t n)
{
	static const char *words[FT_WRAPPER_MAX_WORDS];
	static size_t count;
	static bool parsed;
	size_t i;

	if (!parsed) {
		const char *value = getenv("FT_TEST_WRAPPER");
		char *copy = strdup(value ? value : ""), *word;

		for (word = strtok(copy, " \t"); word;
		     word = strtok(NULL, " \t")) {
			if (count == FT_WRAPPER_MAX_WORDS) {
				fprintf(stderr,
					"harness: FT_TEST_WRAPPER has "
					"more than %d words\n",
					FT_WRAPPER_MAX_WORDS);
				abort();
			}
			words[count++] = word;
		}
		parsed = true;
	}
	for (i = 0; i < count; i++)
		argv[n++] = words[i];
	argv[n++] = FT_BUILD_DIR "/forktrace";
	return n;
}

bool
forktrace_wrapped(void)
{
	const char *value = getenv("FT_TEST_WRAPPER");

	return value && value[strspn(value, " \t")];
}

char *
read_whole_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *data = NULL;
	size_t len = 0;
	long size;

	if (!fp)
		return strdup("");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = malloc(size > 0 ? (size_t)size + 1 : 1);
	if (size > 0)
		len = fread(data, 1, (size_t)size, fp);
	data[len] = '\0';
	fclose(fp);
	return data;
}

/* Waits for pid with a deadline; kills its process group when it passes. */
static int
wait_bounded(pid_t pid, struct trace_result *result)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int status = 0;

	if (pidfd >= 0) {
		int n;

		do
			n = poll(&pfd, 1, TRACE_TIMEOUT * 1000);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			result->timed_out = true;
			kill(-pid, SIGKILL);
		}
		close(pidfd);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/*
	 * Members that outlive forktrace are left alone: the tests that
	 * expect them end them by pid, and every example ends by itself.
	 */
	if (WIFEXITED(status)) {
		result->exit_code = WEXITSTATUS(status);
	} else {
		result->exit_code = -1;
		result->signal = WTERMSIG(status);
	}
	return 0;
}

/*
 * Makes in, out and err a child's standard descriptors, and closes them,
 * so that the traced program gets no descriptor the harness opened.
 */
static void
redirect_std(int in, int out, int err)
{
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (in > 2)
		close(in);
	if (out > 2)
		close(out);
	if (err > 2)
		close(err);
}

static int
run_captured(struct trace_result *result, char *const *argv,
	     const char *const *env)
{
	char out_path[128], err_path[128];
	pid_t pid;
	size_t i;

	snprintf(out_path, sizeof(out_path), "%s/stdout", test_tmpdir());
	snprintf(err_path, sizeof(err_path), "%s/stderr", test_tmpdir());
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		redirect_std(in, out, err);
		for (i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], argv);
		fprintf(stderr, "harness: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	wait_bounded(pid, result);
	result->out = read_whole_file(out_path);
	result->err = read_whole_file(err_path);
	return 0;
}

static void
parse_json_lines(struct trace_result *result, const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t capacity = 0;
	char *line = NULL;
	size_t line_capacity = 0;
	ssize_t n;

	if (!fp)
		return;
	while ((n = getline(&line, &line_capacity, fp)) > 0) {
		json_error_t error;
		json_t *event = json_loadb(line, (size_t)n, 0, &error);

		if (!event) {
			fprintf(stderr, "harness: bad JSON line: %s: %s",
				error.text, line);
			continue;
		}
		if (result->count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			result->events = realloc(result->events,
						 capacity * sizeof(json_t *));
		}
		result->events[result->count++] = event;
	}
	free(line);
	fclose(fp);
	if (result->count) {
		json_t *last = result->events[result->count - 1];
		const char *kind = json_str(last, "event");

		if (kind && !strcmp(kind, "summary"))
			result->summary = last;
	}
}

int
trace_run_env(struct trace_result *result, const char *const *options,
	      const char *const *command, const char *const *env)
{
	const char *argv[256];
	char json_path[128];
	size_t n = 0, i;

	memset(result, 0, sizeof(*result));
	snprintf(json_path, sizeof(json_path), "%s/trace.json", test_tmpdir());
	unlink(json_path);

	n = add_forktrace(argv, n);
	argv[n++] = "--json";
	argv[n++] = "-o";
	argv[n++] = json_path;
	for (i = 0; options && options[i] && n < 200; i++)
		argv[n++] = options[i];
	argv[n++] = "--";
	for (i = 0; command[i] && n < 255; i++)
		argv[n++] = command[i];
	argv[n] = NULL;

	if (run_captured(result, (char *const *)argv, env) < 0)
		return -1;
	parse_json_lines(result, json_path);
	return 0;
}

int
trace_run(struct trace_result *result, const char *const *options,
	  const char *const *command)
{
	return trace_run_env(result, options, command, NULL);
}

int
forktrace_run(struct trace_result *result, const char *const *args)
{
	const char *argv[256];
	size_t n = 0, i;

	memset(result, 0, sizeof(*result));
	n = add_forktrace(argv, n);
	for (i = 0; args[i] && n < 255; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_captured(result, (char *const *)argv, NULL);
}

int
plain_run(struct trace_result *result, const char *const *command)
{
	memset(result, 0, sizeof(*result));
	return run_captured(result, (char *const *)command, NULL);
}

void
trace_result_free(struct trace_result *result)
{
	size_t i;

	for (i = 0; i < result->count; i++)
		json_decref(result->events[i]);
	free(result->events);
	free(result->out);
	free(result->err);
	memset(result, 0, sizeof(*result));
}

json_t *
trace_event(const struct trace_result *result, const char *event, pid_t pid,
	    size_t nth)
{
	size_t i;

	for (i = 0; i < result->count; i++) {
		json_t *e = result->events[i];
		const char *kind = json_str(e, "event");

		if (!kind || strcmp(kind, event))
			continue;
		if (pid && json_int(e, "pid") != pid)
			continue;
		if (nth-- == 0)
			return e;
	}
	return NULL;
}

size_t
trace_count(const struct trace_result *result, const char *event, pid_t pid)
{
	size_t i, count = 0;

	for (i = 0; i < result->count; i++) {
		json_t *e = result->events[i];
		const char *kind = json_str(e, "event");

		if (kind && !strcmp(kind, event) &&
		    (!pid || json_int(e, "pid") == pid))
			count++;
	}
	return count;
}

pid_t
trace_root_pid(const struct trace_result *result)
{
	json_t *tree = result->summary
			       ? json_object_get(result->summary, "tree")
			       : NULL;

	if (!json_is_array(tree) || !json_array_size(tree))
		return 0;
	return (pid_t)json_int(json_array_get(tree, 0), "pid");
}

static json_t *
find_process(json_t *node, pid_t pid)
{
	json_t *children, *child, *found;
	size_t i;

	if (json_int(node, "pid") == pid)
		return node;
	children = json_object_get(node, "children");
	json_array_foreach(children, i, child)
	{
		found = find_process(child, pid);
		if (found)
			return found;
	}
	return NULL;
}

json_t *
trace_process(const struct trace_result *result, pid_t pid)
{
	json_t *tree, *root, *found;
	size_t i;

	if (!result->summary)
		return NULL;
	tree = json_object_get(result->summary, "tree");
	json_array_foreach(tree, i, root)
	{
		found = find_process(root, pid);
		if (found)
			return found;
	}
	return NULL;
}

static size_t
count_processes(json_t *node)
{
	json_t *child;
	size_t i, count = 1;

	json_array_foreach(json_object_get(node, "children"), i, child) count +=
		count_processes(child);
	return count;
}

size_t
trace_process_count(const struct trace_result *result)
{
	json_t *root;
	size_t i, count = 0;

	if (!result->summary)
		return 0;
	json_array_foreach(json_object_get(result->summary, "tree"), i, root)
		count += count_processes(root);
	return count;
}

long
json_int(const json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);

	return json_is_integer(value) ? (long)json_integer_value(value) : -1;
}

const char *
json_str(const json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

const char *
process_program(const json_t *process)
{
	const char *path = json_str(process, "path");
	const char *slash;

	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int
marker_line(const char *relative_path, const char *name)
{
	FILE *fp = fopen(source_path(relative_path), "r");
	char marker[128], line[1024];
	int number = 0, found = -1;

	if (!fp)
		return -1;
	snprintf(marker, sizeof(marker), "site: %s", name);
	while (fgets(line, sizeof(line), fp)) {
		number++;
		if (strstr(line, marker)) {
			found = number;
			break;
		}
	}
	fclose(fp);
	return found;
}

/* Appends one parsed line to the result's events. */
static void
add_event_line(struct trace_result *result, const char *line, size_t len)
{
	json_error_t error;
	json_t *event = json_loadb(line, len, 0, &error);
	const char *kind;

	if (!event) {
		fprintf(stderr, "harness: bad JSON line: %s: %.*s\n",
			error.text, (int)len, line);
		return;
	}
	result->events =
		realloc(result->events, (result->count + 1) * sizeof(json_t *));
	result->events[result->count++] = event;
	kind = json_str(event, "event");
	if (kind && !strcmp(kind, "summary"))
		result->summary = event;
}

/*
 * Starts forktrace for live_trace_start() or live_trace_start_tty(); with
 * tty, on a new pseudo-terminal whose master is kept in live->tty.
 */
static int
live_start(struct live_trace *live, const char *const *options,
	   const char *const *command, bool tty)
{
	char fifo[128];
	const char *argv[256];
	size_t n = 0, i;
	pid_t pid;

	memset(live, 0, sizeof(*live));
	live->tty = -1;
	snprintf(fifo, sizeof(fifo), "%s/live.fifo", test_tmpdir());
	unlink(fifo);
	if (mkfifo(fifo, 0600) < 0)
		return -1;
	/* Opened without blocking, so that a forktrace that fails early
	 * cannot hang the test. */
	live->fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (live->fd < 0)
		return -1;

	n = add_forktrace(argv, n);
	argv[n++] = "--json";
	argv[n++] = "-o";
	argv[n++] = fifo;
	for (i = 0; options && options[i] && n < 200; i++)
		argv[n++] = options[i];
	argv[n++] = "--";
	for (i = 0; command[i] && n < 255; i++)
		argv[n++] = command[i];
	argv[n] = NULL;

	fflush(NULL);
	pid = tty ? forkpty(&live->tty, NULL, NULL, NULL) : fork();
	if (pid < 0)
		return -1;
	if (pid == 0 && tty) {
		/* A session of its own, with the terminal in the foreground. */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid == 0) {
		char err_path[128];
		int in = open("/dev/null", O_RDONLY);
		int err, out;

		snprintf(err_path, sizeof(err_path), "%s/live.err",
			 test_tmpdir());
		err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		snprintf(err_path, sizeof(err_path), "%s/live.out",
			 test_tmpdir());
		out = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		setpgid(0, 0);
		redirect_std(in, out, err);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (!tty)
		setpgid(pid, pid);
	live->pid = pid;
	return 0;
}

int
live_trace_start(struct live_trace *live, const char *const *options,
		 const char *const *command)
{
	return live_start(live, options, command, false);
}

int
live_trace_start_tty(struct live_trace *live, const char *const *options,
		     const char *const *command)
{
	return live_start(live, options, command, true);
}

/* Keeps room for at least 64 KiB more in the live buffer. */
static void
live_reserve(struct live_trace *live)
{
	if (live->capacity - live->len > 65536)
		return;
	live->capacity = live->capacity ? live->capacity * 2 : 262144;
	live->buf = realloc(live->buf, live->capacity);
	if (!live->buf)
		abort();
}

/*
 * Reads what is available within the deadline.  Returns false at EOF, at
 * the deadline, or when forktrace ended without opening the FIFO.  (poll()
 * on a FIFO that never had a writer waits; it does not report EOF.)
 */
static bool
live_read_more(struct live_trace *live, time_t deadline)
{
	int pidfd = (int)syscall(SYS_pidfd_open, live->pid, 0);
	struct pollfd pfd[2] = { { .fd = live->fd, .events = POLLIN },
				 { .fd = pidfd, .events = POLLIN } };
	bool more = false;

	for (;;) {
		time_t now = time(NULL);
		ssize_t n;

		if (now >= deadline)
			break;
		if (poll(pfd, pidfd >= 0 ? 2 : 1,
			 (int)(deadline - now) * 1000) <= 0)
			break;
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			break; /* forktrace ended and nothing is left to read */
		live_reserve(live);
		n = read(live->fd, live->buf + live->len,
			 live->capacity - live->len - 1);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n > 0) {
			live->len += (size_t)n;
			more = true;
		}
		break;
	}
	if (pidfd >= 0)
		close(pidfd);
	return more;
}

/* Moves every complete line of the buffer into the result. */
static json_t *
live_take_lines(struct live_trace *live, const char *event, const char *comm)
{
	json_t *match = NULL;
	char *start, *nl;

	live_reserve(live);
	start = live->buf;
	live->buf[live->len] = '\0';
	while (!match &&
	       (nl = memchr(start, '\n',
			    live->len - (size_t)(start - live->buf)))) {
		size_t before = live->result.count;
		json_t *e;

		add_event_line(&live->result, start, (size_t)(nl - start));
		start = nl + 1;
		if (live->result.count == before)
			continue;
		e = live->result.events[before];
		if (event && !strcmp(json_str(e, "event"), event) &&
		    (!comm || (json_str(e, "comm") &&
			       !strcmp(json_str(e, "comm"), comm))))
			match = e;
	}
	live->len -= (size_t)(start - live->buf);
	memmove(live->buf, start, live->len);
	return match;
}

json_t *
live_trace_next(struct live_trace *live, const char *event, const char *comm)
{
	time_t deadline = time(NULL) + TRACE_TIMEOUT;
	json_t *match;

	for (;;) {
		match = live_take_lines(live, event, comm);
		if (match)
			return match;
		if (!live_read_more(live, deadline))
			return NULL;
	}
}

void
live_trace_pump(struct live_trace *live)
{
	for (;;) {
		ssize_t n;

		live_reserve(live);
		n = read(live->fd, live->buf + live->len,
			 live->capacity - live->len - 1);

		if (n <= 0)
			break;
		live->len += (size_t)n;
		live_take_lines(live, NULL, NULL);
	}
}

/*
 * Appends what the pseudo-terminal shows within timeout_ms to
 * live->tty_text.  Returns false when nothing came.
 */
static bool
live_read_tty(struct live_trace *live, int timeout_ms)
{
	struct pollfd pfd = { .fd = live->tty, .events = POLLIN };
	char chunk[4096];
	ssize_t n;
	int ready;

	do
		ready = poll(&pfd, 1, timeout_ms);
	while (ready < 0 && errno == EINTR);
	if (ready <= 0)
		return false;
	/* The master reads EIO once no process has the terminal open. */
	n = read(live->tty, chunk, sizeof(chunk));
	if (n <= 0)
		return false;
	live->tty_text = realloc(live->tty_text, live->tty_len + (size_t)n + 1);
	if (!live->tty_text)
		abort();
	memcpy(live->tty_text + live->tty_len, chunk, (size_t)n);
	live->tty_len += (size_t)n;
	live->tty_text[live->tty_len] = '\0';
	return true;
}

bool
live_tty_wait_for(struct live_trace *live, const char *text)
{
	time_t deadline = time(NULL) + TRACE_TIMEOUT;

	while (!live->tty_text || !strstr(live->tty_text, text)) {
		time_t now = time(NULL);

		live_trace_pump(live);
		if (now >= deadline)
			return false;
		/* Short polls, so that the events keep being read meanwhile. */
		live_read_tty(live, 100);
	}
	return true;
}

void
live_trace_finish(struct live_trace *live)
{
	time_t deadline = time(NULL) + TRACE_TIMEOUT;
	char err_path[128];

	while (live_read_more(live, deadline))
		live_take_lines(live, NULL, NULL);
	live_take_lines(live, NULL, NULL);
	close(live->fd);
	free(live->buf);
	live->buf = NULL;
	wait_bounded(live->pid, &live->result);
	if (live->tty >= 0) {
		/* forktrace has ended: what it wrote is there already. */
		while (live_read_tty(live, 0))
			;
		close(live->tty);
		live->tty = -1;
		live->result.err = live->tty_text ? live->tty_text : strdup("");
		live->tty_text = NULL;
	} else {
		snprintf(err_path, sizeof(err_path), "%s/live.err",
			 test_tmpdir());
		live->result.err = read_whole_file(err_path);
	}
	snprintf(err_path, sizeof(err_path), "%s/live.out", test_tmpdir());
	live->result.out = read_whole_file(err_path);
}

bool
wait_for_process_end(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int n;

	if (pidfd < 0)
		return errno == ESRCH;
	do
		n = poll(&pfd, 1, TRACE_TIMEOUT * 1000);
	while (n < 0 && errno == EINTR);
	close(pidfd);
	return n == 1;
}

char
process_state(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

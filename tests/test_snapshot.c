/*
 * Integration tests of snapshots: --snapshot -p on a family started by
 * the test, and SIGQUIT during a trace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const char *
fifo_path(void)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/snapshot.fifo", test_tmpdir());
	return path;
}

/* Makes the FIFO and keeps it open for writing (close-on-exec). */
static int
hold_fifo(void)
{
	int fd;

	unlink(fifo_path());
	assert_int_equal(mkfifo(fifo_path(), 0600), 0);
	fd = open(fifo_path(), O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Starts attach_family with COUNT children; returns once all forked. */
static pid_t
start_family(const char *count, int *out_fd)
{
	int fds[2];
	char buf[4096];
	size_t len = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(example_path("attach_family"), "attach_family",
		      fifo_path(), count, "0", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof(buf) - 1) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		ssize_t n;

		assert_true(poll(&pfd, 1, TRACE_TIMEOUT * 1000) > 0);
		n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "forked all\n"))
			break;
	}
	*out_fd = fds[0];
	return pid;
}

static int
wait_exit_code(pid_t pid)
{
	int status = 0;

	alarm(TRACE_TIMEOUT);
	waitpid(pid, &status, 0);
	alarm(0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Returns the first frame of a thread's stack that names function. */
static bool
stack_has(json_t *thread, const char *function)
{
	json_t *frame;
	size_t i;

	json_array_foreach(json_object_get(thread, "stack"), i, frame)
	{
		const char *name = json_str(frame, "function");

		if (name && !strcmp(name, function))
			return true;
	}
	return false;
}

static const char *
syscall_of(json_t *thread)
{
	return json_str(json_object_get(thread, "syscall"), "name");
}

static void
snapshot_shows_every_thread(void **state)
{
	char pid_text[16];
	const char *options[] = { "--snapshot", "-p", pid_text, NULL };
	const char *command[] = { NULL };
	struct trace_result r;
	json_t *snapshot, *root, *threads, *children, *child;
	int hold, out;
	pid_t family;
	size_t i;

	(void)state;
	hold = hold_fifo();
	family = start_family("3", &out);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)family);
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);

	/* The snapshot is the whole output. */
	assert_int_equal(r.count, 1);
	snapshot = trace_event(&r, "snapshot", 0, 0);
	assert_non_null(snapshot);
	assert_int_equal(json_int(snapshot, "processes"), 4);
	assert_int_equal(json_int(snapshot, "threads"), 5);
	root = json_array_get(json_object_get(snapshot, "tree"), 0);
	assert_int_equal(json_int(root, "pid"), family);

	/* The main thread waits for its children; the other reads. */
	threads = json_object_get(root, "threads");
	assert_int_equal(json_array_size(threads), 2);
	assert_string_equal(syscall_of(json_array_get(threads, 0)), "wait4");
	assert_true(stack_has(json_array_get(threads, 0), "main"));
	assert_string_equal(json_str(json_array_get(threads, 0), "state"), "S");
	assert_string_equal(syscall_of(json_array_get(threads, 1)), "read");
	assert_true(stack_has(json_array_get(threads, 1), "wait_for_eof"));
	assert_true(stack_has(json_array_get(threads, 1), "thread_main"));

	children = json_object_get(root, "children");
	assert_int_equal(json_array_size(children), 3);
	for (i = 0; i < 3; i++) {
		json_t *thread;

		child = json_array_get(children, i);
		thread = json_array_get(json_object_get(child, "threads"), 0);
		assert_string_equal(syscall_of(thread), "read");
		assert_true(stack_has(thread, "wait_for_eof"));
		assert_non_null(json_str(thread, "wchan"));
	}
	trace_result_free(&r);

	/* Let go of, the family runs on and ends as it would have. */
	assert_true(strchr("RS", process_state(family)) != NULL);
	close(hold);
	assert_int_equal(wait_exit_code(family), 0);
	close(out);
}

static void
sigquit_prints_snapshot_and_goes_on(void **state)
{
	const char *command[] = { example_path("attach_family"), fifo_path(),
				  "2", "0", NULL };
	struct live_trace live;
	json_t *snapshot, *root;
	size_t i;
	int hold;

	(void)state;
	hold = hold_fifo();
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	for (i = 0; i < 2; i++)
		assert_non_null(live_trace_next(&live, "fork", NULL));
	kill(live.pid, SIGQUIT);
	snapshot = live_trace_next(&live, "snapshot", NULL);
	assert_non_null(snapshot);
	root = json_array_get(json_object_get(snapshot, "tree"), 0);
	assert_int_equal(json_array_size(json_object_get(root, "children")), 2);
	close(hold);
	live_trace_finish(&live);
	/* The trace went on to the family's end. */
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	assert_non_null(live.result.summary);
	assert_int_equal(trace_process_count(&live.result), 3);
	trace_result_free(&live.result);
}

/* Returns the snapshot's thread tid, searching the whole tree. */
static json_t *
snapshot_thread_of(json_t *processes, pid_t tid)
{
	size_t i, j;

	for (i = 0; i < json_array_size(processes); i++) {
		json_t *p = json_array_get(processes, i), *found;
		json_t *threads = json_object_get(p, "threads");

		for (j = 0; j < json_array_size(threads); j++)
			if (json_int(json_array_get(threads, j), "tid") == tid)
				return json_array_get(threads, j);
		found = snapshot_thread_of(json_object_get(p, "children"), tid);
		if (found)
			return found;
	}
	return NULL;
}

static void
quit_key_snapshot_spares_family(void **state)
{
	const char *command[] = { "/bin/sleep", "60", NULL };
	struct live_trace live;
	json_t *exec, *snapshot, *thread;
	pid_t sleeper;

	(void)state;
	assert_int_equal(live_trace_start_tty(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	/* Ctrl-\ sends SIGQUIT to forktrace and to the sleep alike. */
	assert_int_equal(write(live.tty, "\034", 1), 1);
	snapshot = live_trace_next(&live, "snapshot", NULL);
	assert_non_null(snapshot);
	thread = snapshot_thread_of(json_object_get(snapshot, "tree"), sleeper);
	assert_non_null(thread);
	assert_string_equal(json_str(thread, "state"), "S");
	/* The sleep did not get it: it still sleeps, and no signal showed. */
	live_trace_pump(&live);
	assert_int_equal(kill(sleeper, 0), 0);
	assert_true(process_state(sleeper) == 'S' ||
		    process_state(sleeper) == 'R');
	assert_int_equal(trace_count(&live.result, "signal", sleeper), 0);
	kill(sleeper, SIGKILL);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGKILL);
	trace_result_free(&live.result);
}

static void
quit_by_kill_reaches_program(void **state)
{
	const char *command[] = { "/bin/sleep", "60", NULL };
	struct live_trace live;
	json_t *exec, *signal_event;
	pid_t sleeper;

	(void)state;
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	/* A SIGQUIT that a process sends is the program's to take. */
	kill(sleeper, SIGQUIT);
	signal_event = live_trace_next(&live, "signal", NULL);
	assert_non_null(signal_event);
	assert_string_equal(json_str(signal_event, "signal"), "SIGQUIT");
	live_trace_finish(&live);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGQUIT);
	trace_result_free(&live.result);
}

/*
 * Waits for busy's byte on fd, written from spin(), and then for the
 * write() to return: /proc/PID/syscall reads "running" outside a call.
 */
static void
wait_until_spinning(int fd, pid_t busy)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char path[64], text[32];
	time_t deadline = time(NULL) + TRACE_TIMEOUT;
	char byte;
	int sys;

	assert_int_equal(poll(&pfd, 1, TRACE_TIMEOUT * 1000), 1);
	assert_int_equal(read(fd, &byte, 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)busy);
	for (;;) {
		ssize_t n;

		sys = open(path, O_RDONLY);
		assert_true(sys >= 0);
		n = read(sys, text, sizeof(text) - 1);
		close(sys);
		if (n > 0 && !strncmp(text, "running", 7))
			return;
		assert_true(time(NULL) < deadline);
		sched_yield();
	}
}

static void
snapshot_of_busy_worker(void **state)
{
	char list[48];
	const char *options[] = { "--snapshot", "-p", list, NULL };
	const char *command[] = { NULL };
	struct trace_result r;
	json_t *snapshot, *tree, *thread = NULL, *root;
	int hold, out, ready[2], status = 0;
	pid_t family, busy;
	size_t i;

	(void)state;
	hold = hold_fifo();
	family = start_family("1", &out);
	assert_int_equal(pipe(ready), 0);
	busy = fork();
	assert_true(busy >= 0);
	if (busy == 0) {
		close(ready[0]);
		if (dup2(ready[1], 3) < 0)
			_exit(127);
		execl(example_path("busy"), "busy", "3", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	wait_until_spinning(ready[0], busy);
	close(ready[0]);
	snprintf(list, sizeof(list), "%d,%d", (int)family, (int)busy);
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	snapshot = trace_event(&r, "snapshot", 0, 0);
	assert_non_null(snapshot);
	tree = json_object_get(snapshot, "tree");
	assert_int_equal(json_array_size(tree), 2);
	json_array_foreach(tree, i, root) if (json_int(root, "pid") == busy)
		thread = json_array_get(json_object_get(root, "threads"), 0);
	/* It runs, in no system call, and its stack is in spin(). */
	assert_non_null(thread);
	assert_string_equal(json_str(thread, "state"), "R");
	assert_null(json_object_get(thread, "syscall"));
	assert_true(stack_has(thread, "spin"));
	assert_true(stack_has(thread, "main"));
	trace_result_free(&r);

	/* Both run on, and end as they would have. */
	kill(busy, SIGTERM);
	alarm(TRACE_TIMEOUT);
	waitpid(busy, &status, 0);
	alarm(0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	close(hold);
	assert_int_equal(wait_exit_code(family), 0);
	close(out);
}

static void
snapshot_needs_attach(void **state)
{
	const char *args[] = { "--snapshot", "true", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "--snapshot needs -p PID"));
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_shows_every_thread),
		cmocka_unit_test(sigquit_prints_snapshot_and_goes_on),
		cmocka_unit_test(snapshot_of_busy_worker),
		cmocka_unit_test(quit_key_snapshot_spares_family),
		cmocka_unit_test(quit_by_kill_reaches_program),
		cmocka_unit_test(snapshot_needs_attach),
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
